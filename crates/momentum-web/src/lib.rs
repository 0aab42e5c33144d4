//! Momentum's web app and JSON API, served from one router.
//!
//! - [`pages`]: server-rendered HTML (maud), working with JavaScript off; assets embedded.
//! - [`api`]: `/api/v1`, JSON over the same store operations, described by an OpenAPI 3.1
//!   document at `/api/openapi.json`.
//! - [`auth`]: sessions with CSRF for pages, Bearer tokens for the API.
//!
//! [`serve`] takes a bound listener and a shutdown future, so tests and the CLI start the
//! same app; [`router`] alone serves in-process tests (`oneshot`).

#![forbid(unsafe_code)]

pub mod api;
pub mod auth;
pub mod calendar;
pub mod chart;
pub mod config;
pub mod db;
pub mod error;
pub mod input;
pub mod metrics;
pub mod pages;
pub mod password;

use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

pub use config::Config;

/// What every request handler shares. Nothing here is per-user: app servers are
/// stateless, so several can serve one PostgreSQL side by side.
#[derive(Clone, Debug)]
pub struct AppState {
    pub pool: db::Pool,
    pub config: Arc<Config>,
    pub metrics: Arc<metrics::Metrics>,
}

impl AppState {
    pub fn new(config: Config) -> Result<AppState, momentum_store::StoreError> {
        momentum_store::set_sqlite_cache_mib(config.sqlite_cache_mb);
        // Open (and migrate) once up front, so a bad location fails at start, not per request.
        momentum_store::Store::open(&config.db)?;
        Ok(AppState {
            pool: db::pool(&config.db, config.pool_size)?,
            config: Arc::new(config),
            metrics: Arc::new(metrics::Metrics::default()),
        })
    }
}

/// Request ids: 16 random hex digits, unless the client sent one.
#[derive(Clone, Copy, Debug)]
struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let id = &auth::random_secret()[..16];
        HeaderValue::from_str(id).ok().map(RequestId::new)
    }
}

/// Content-Security-Policy: only our own embedded assets; no inline script or style.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub fn router(state: AppState) -> Router {
    let request_id = header::HeaderName::from_static("x-request-id");
    Router::new()
        .merge(pages::routes())
        .merge(api::routes())
        .merge(calendar::routes())
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics::render))
        .fallback(|| async { error::PageError(error::WebError::NotFound) })
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
        .layer(RequestBodyLimitLayer::new(state.config.max_body_bytes))
        .layer(CatchPanicLayer::custom(answer_panic))
        // Outside the limit and the panic catcher, so it sees (and rewrites) their answers.
        .layer(axum::middleware::from_fn(api_problems))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<_>| {
                    let id = req
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    // The path only: a query string could carry a search term or a token.
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
                })
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(SetRequestIdLayer::new(request_id, RandomRequestId))
        .with_state(state)
}

/// A handler that panics (a bug) answers 500 like any internal error and is logged, instead
/// of the connection dropping without an answer. Short reads run on the async thread
/// ([`db::read_store`]), where no blocking-pool join would turn a panic into an error.
fn answer_panic(payload: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    error::PageError(error::WebError::Internal(format!("a request panicked: {what}"))).into_response()
}

/// The body-size limit and the panic catcher answer outside any handler, in plain text or
/// HTML; API clients get problem+json like every other API error.
async fn api_problems(request: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let is_api = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    if is_api && response.status() == StatusCode::PAYLOAD_TOO_LARGE {
        let detail = "the request body is larger than this server accepts (max_body_bytes)";
        return error::ApiError(error::WebError::TooLarge(detail.into())).into_response();
    }
    let problem = |r: &axum::response::Response| {
        r.headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v == "application/problem+json")
    };
    if is_api && response.status() == StatusCode::INTERNAL_SERVER_ERROR && !problem(&response) {
        // Only the panic catcher answers a 500 that is not a problem yet, and it logged the
        // cause: this rewrites the answer without logging it a second time.
        return error::ApiError(error::WebError::Internal("answered outside the API's handlers".into()))
            .answer_logged();
    }
    response
}

/// `GET /healthz`: 200 when the database answers, 503 otherwise.
async fn healthz(axum::extract::State(state): axum::extract::State<AppState>) -> impl IntoResponse {
    let ok = db::read_store(
        &state,
        |store| Ok(store.read(|tx| tx.query("SELECT 1", &[]).map(drop))?),
    )
    .await;
    match ok {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable"),
    }
}

/// Serves until `shutdown` completes; in-flight requests then finish before it returns.
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    tokio::spawn(housekeeping(state.clone()));
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

/// Hourly: forget expired sessions and old sign-in failures, so neither table grows
/// without bound (anyone can add failure rows by trying made-up e-mails).
async fn housekeeping(state: AppState) {
    let mut every_hour = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        let done = db::with_store(&state, |store| {
            let now = jiff::Timestamp::now();
            let sessions = momentum_store::auth::delete_expired_sessions(store, now)?;
            let failures =
                momentum_store::auth::delete_old_sign_in_failures(store, now - jiff::SignedDuration::from_hours(24))?;
            Ok((sessions, failures))
        })
        .await;
        match done {
            Ok((sessions, failures)) => tracing::debug!(sessions, failures, "housekeeping"),
            Err(e) => tracing::warn!(error = %e.detail(), "housekeeping failed; will retry in an hour"),
        }
    }
}

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
    // Give keep-alive clients a moment; axum stops accepting at once.
    tokio::time::sleep(Duration::from_millis(10)).await;
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use axum::body::Body;
    use axum::http::{header, Request, StatusCode};
    use axum::routing::get;
    use axum::Router;
    use tower::ServiceExt;
    use tower_http::catch_panic::CatchPanicLayer;

    /// The log lines written while it is the thread's default subscriber.
    #[derive(Clone, Default)]
    struct Log(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Log {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Log {
        type Writer = Log;
        fn make_writer(&'a self) -> Log {
            self.clone()
        }
    }

    impl Log {
        fn take(&self) -> String {
            String::from_utf8(std::mem::take(&mut *self.0.lock().unwrap())).unwrap()
        }
    }

    /// The same two layers as [`super::router`], around handlers that panic: an answer in
    /// the caller's format, and one log line with the panic's message for the operator.
    #[tokio::test]
    async fn a_panicking_handler_answers_500_as_a_page_or_a_problem_and_is_logged_once() {
        async fn boom() -> &'static str {
            panic!("boom")
        }
        let log = Log::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(log.clone())
            .with_ansi(false)
            .finish();
        let _default = tracing::subscriber::set_default(subscriber);
        let app = Router::new()
            .route("/api/v1/boom", get(boom))
            .route("/boom", get(boom))
            .layer(CatchPanicLayer::custom(super::answer_panic))
            .layer(axum::middleware::from_fn(super::api_problems));
        for (path, kind) in [("/boom", "text/html"), ("/api/v1/boom", "application/problem+json")] {
            let request = Request::get(path).body(Body::empty()).unwrap();
            let response = app.clone().oneshot(request).await.unwrap();
            assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR, "{path}");
            let content_type = response.headers()[header::CONTENT_TYPE].to_str().unwrap().to_owned();
            assert!(content_type.starts_with(kind), "{path}: {content_type}");
            let body = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
            let body = String::from_utf8_lossy(&body);
            assert!(body.contains("something went wrong on our side"), "{path}: {body}");
            assert!(
                !body.contains("boom"),
                "{path}: the panic's message is for the log only"
            );
            let logged = log.take();
            assert_eq!(logged.matches("request failed").count(), 1, "{path}: {logged}");
            assert!(logged.contains("a request panicked: boom"), "{path}: {logged}");
        }
    }
}
