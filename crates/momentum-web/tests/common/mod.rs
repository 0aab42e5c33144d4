//! In-process app for the web tests: a fresh database per test (both backends), the demo
//! org or a tiny hand-made one, and requests sent with `oneshot`, cookies carried by hand.
#![allow(dead_code)]

pub mod schema;

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{header, Request, Response, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use momentum_testkit::TestDb;
use tower::ServiceExt;

pub struct App {
    pub router: Router,
    pub state: momentum_web::AppState,
    /// Cookies the "browser" holds, name → value.
    pub cookies: Vec<(String, String)>,
}

/// The demo org (seed 42, today's date) in `db`, and the app over it.
pub fn demo_app(db: &TestDb) -> App {
    let mut store = momentum_store::Store::open(&db.location).unwrap();
    let hash = momentum_web::password::hash(momentum_demo::DEMO_PASSWORD).unwrap();
    let mut writer = momentum_store::bulk::BulkWriter::new(&mut store, hash);
    let today = jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    momentum_demo::generate(
        &momentum_demo::DemoConfig {
            seed: 42,
            scale: momentum_demo::Scale::Small,
            today,
        },
        &mut writer,
    )
    .unwrap();
    writer.finish().unwrap();
    app(db)
}

pub fn app(db: &TestDb) -> App {
    let config = momentum_web::Config {
        db: db.location.clone(),
        pool_size: 2,
        ..Default::default()
    };
    let state = momentum_web::AppState::new(config).unwrap();
    let router = momentum_web::router(state.clone()).layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 50000))));
    App {
        router,
        state,
        cookies: Vec::new(),
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

impl App {
    /// Another browser on the same app: no cookies.
    pub fn fresh(&self) -> App {
        App {
            router: self.router.clone(),
            state: self.state.clone(),
            cookies: Vec::new(),
        }
    }

    pub async fn send(&mut self, request: Request<Body>) -> Reply {
        let response: Response<Body> = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        for value in headers.get_all(header::SET_COOKIE) {
            let text = value.to_str().unwrap();
            let pair = text.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            self.cookies.retain(|(n, _)| n != name);
            // Look only at the attributes: a random value may well contain "1970".
            let expired = text.split(';').skip(1).map(str::trim).any(|attr| {
                attr.eq_ignore_ascii_case("Max-Age=0") || (attr.starts_with("Expires=") && attr.contains("1970"))
            });
            if !expired {
                self.cookies.push((name.to_owned(), value.to_owned()));
            }
        }
        let body = String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
        Reply { status, headers, body }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub async fn get(&mut self, path: &str) -> Reply {
        let request = Request::get(path)
            .header(header::COOKIE, self.cookie_header())
            .body(Body::empty())
            .unwrap();
        self.send(request).await
    }

    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let request = Request::post(path)
            .header(header::COOKIE, self.cookie_header())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        self.send(request).await
    }

    /// Signs in through the form, as a browser would.
    pub async fn sign_in(&mut self, email: &str, password: &str) -> Reply {
        let form = self.get("/sign-in").await;
        let csrf = hidden(&form.body, "csrf");
        self.post_form("/sign-in", &[("email", email), ("password", password), ("csrf", &csrf)])
            .await
    }

    /// The CSRF token of the signed-in session, read from a page's form.
    pub async fn csrf(&mut self) -> String {
        let page = self.get("/").await;
        hidden(&page.body, "csrf")
    }

    pub async fn api(&mut self, method: &str, path: &str, token: &str, body: Option<serde_json::Value>) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        if !token.is_empty() {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let request = match body {
            Some(json) => request
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(json.to_string()))
                .unwrap(),
            None => request.body(Body::empty()).unwrap(),
        };
        self.send(request).await
    }
}

/// The value of the first hidden input called `name` in `html`.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} field in {html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
