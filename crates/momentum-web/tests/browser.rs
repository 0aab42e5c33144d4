//! A real browser against the real server: headless Chromium from Debian, driven by
//! chromedriver (both installed by `scripts/install-browser`), on SQLite and on PostgreSQL.
//!
//! A seller signs in, opens Today, tries to log an interaction with no ending and reads the
//! refusal, then logs it with a buyer-committed next step and finds it on the Deal page.
//! Every page is saved as a PNG under `target/browser-artifacts/` (`<backend>-<nn>-<name>.png`);
//! when a step fails, the page it failed on is saved too (`<backend>-failure.png` and `.html`).
//!
//! Without `/usr/bin/chromedriver` the test skips with a note, except under `CI=true`, where it
//! fails and says to run `scripts/install-browser`.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use fantoccini::wd::{Capabilities, TimeoutConfiguration};
use fantoccini::{Client, ClientBuilder, Locator};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use momentum_testkit::TestDb;
use serde_json::json;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// The longest any single wait may take: a page load, an element, a URL, the driver.
const WAIT: Duration = Duration::from_secs(20);
/// The whole browser journey, once the database is filled.
const JOURNEY: Duration = Duration::from_secs(120);
const SELLER: &str = "sam@demo.momentum.test";
const NOTES: &str = "Booked the demo with the buyer";

#[test]
fn browser_journey_sqlite() -> Result<()> {
    if !browser_available()? {
        return Ok(());
    }
    run(momentum_testkit::sqlite())
}

#[test]
fn browser_journey_postgres() -> Result<()> {
    if !browser_available()? {
        return Ok(());
    }
    match momentum_testkit::postgres() {
        Some(db) => run(db),
        None => Ok(()),
    }
}

/// Fills `db` with the demo and walks through it. The store is synchronous (the PostgreSQL
/// client runs a runtime of its own), so the database is opened, filled and finally let go
/// outside the Tokio runtime that serves the pages and drives the browser.
fn run(db: TestDb) -> Result<()> {
    let started = Instant::now();
    fill_with_demo(&db.location)?;
    eprintln!("[{}] demo loaded in {:.1?}", db.backend, started.elapsed());
    let state = momentum_web::AppState::new(momentum_web::Config {
        db: db.location.clone(),
        ..Default::default()
    })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let outcome = runtime.block_on(journey(state.clone(), db.backend));
    runtime.shutdown_timeout(Duration::from_secs(5));
    // The last handle on the pool goes here, off the runtime, with its connections.
    drop(state);
    eprintln!("[{}] done in {:.1?}", db.backend, started.elapsed());
    outcome.with_context(|| format!("browser journey on {}", db.backend))
}

/// Whether chromedriver is installed; missing, it is a skip, or a failure in CI.
fn browser_available() -> Result<bool> {
    if Path::new(CHROMEDRIVER).exists() && Path::new(CHROMIUM).exists() {
        return Ok(true);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        bail!("{CHROMEDRIVER} or {CHROMIUM} is missing in CI: run scripts/install-browser first");
    }
    eprintln!("skipping the browser test: {CHROMEDRIVER} is missing (run scripts/install-browser)");
    Ok(false)
}

/// The shared test: serve `state` on a free port and walk through it in Chromium.
async fn journey(state: momentum_web::AppState, backend: &'static str) -> Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(momentum_web::serve(state, listener, async move {
        let _ = shutdown_rx.await;
    }));

    let artifacts = Artifacts::new(backend)?;
    let profile = tempfile::tempdir()?;
    let outcome = async {
        let driver = ChromeDriver::start(&artifacts.dir.join(format!("{backend}-chromedriver.log")))?;
        let client = connect(&driver, profile.path()).await?;
        let walked = tokio::time::timeout(JOURNEY, walk(&client, addr, &artifacts))
            .await
            .unwrap_or_else(|_| Err(anyhow::anyhow!("the browser journey took longer than {JOURNEY:?}")));
        if walked.is_err() {
            artifacts.failure(&client).await;
        }
        // Ends Chromium; chromedriver itself ends when `driver` drops.
        let closed = tokio::time::timeout(WAIT, client.close()).await;
        walked?;
        closed.context("closing the browser session timed out")??;
        anyhow::Ok(())
    }
    .await;

    let _ = shutdown_tx.send(());
    let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
    outcome
}

/// The deterministic demo (seed 42, small), as of today (UTC).
fn fill_with_demo(location: &str) -> Result<()> {
    let mut store = momentum_store::Store::open(location)?;
    let hash = momentum_web::password::hash(momentum_demo::DEMO_PASSWORD)?;
    let mut w = momentum_store::bulk::BulkWriter::new(&mut store, hash);
    let today = Timestamp::now().to_zoned_datetime(TimeZone::UTC).date();
    momentum_demo::generate(
        &momentum_demo::DemoConfig {
            seed: 42,
            scale: momentum_demo::Scale::Small,
            today,
        },
        &mut w,
    )?;
    w.finish()?;
    Ok(())
}

/// What the user does and sees, page by page.
async fn walk(c: &Client, addr: SocketAddr, artifacts: &Artifacts) -> Result<()> {
    let base = format!("http://{addr}");

    // a. Sign in, land on Today.
    c.goto(&format!("{base}/sign-in")).await?;
    assert_h1(c, "Sign in to Momentum").await?;
    c.find(Locator::Css("input[name=email]"))
        .await?
        .send_keys(SELLER)
        .await?;
    c.find(Locator::Css("input[name=password]"))
        .await?
        .send_keys(momentum_demo::DEMO_PASSWORD)
        .await?;
    artifacts.screenshot(c, 1, "sign-in").await?;
    c.find(Locator::Css("form[action='/sign-in'] button[type=submit]"))
        .await?
        .click()
        .await?;
    wait_for_path(c, "/").await?;
    assert_h1(c, "Today").await?;
    let rows = c.find_all(Locator::Css("main table tbody tr")).await?;
    ensure!(!rows.is_empty(), "Today shows no due next steps for {SELLER}");
    for row in &rows {
        row.find(Locator::Css("a[href^='/deals/']"))
            .await
            .context("a due next step without its deal")?;
    }
    artifacts.screenshot(c, 2, "today").await?;

    // b. Log an interaction with no ending: refused, on the same page, with the reason.
    let deal_select = c.find(Locator::Css("form#log select[name=deal]")).await?;
    let deal = c
        .find(Locator::Css("form#log select[name=deal] option"))
        .await?
        .attr("value")
        .await?
        .context("the first deal option has no value")?;
    // Options read "id@version": the version makes a double submit a stale write.
    let choice = deal;
    deal_select.select_by_value(&choice).await?;
    let deal = choice.split('@').next().unwrap_or_default().to_owned();
    ensure!(
        deal.parse::<i64>().is_ok(),
        "the deal option's value {deal:?} does not start with a deal id"
    );
    choose_contact_of_deal(c, &deal).await?;
    c.find(Locator::Css("form#log input[name=result][value=stayed]"))
        .await?
        .click()
        .await?;
    for ending in c.find_all(Locator::Css("form#log input[name=ending]")).await? {
        ensure!(
            !ending.is_selected().await?,
            "an ending is chosen before the seller chose one"
        );
    }
    c.find(Locator::Css("form#log textarea[name=notes]"))
        .await?
        .send_keys("Talked about the demo")
        .await?;
    submit_log_form(c).await?;
    wait_for_path(c, "/log").await?;
    let status = c
        .execute(
            "return performance.getEntriesByType('navigation')[0].responseStatus;",
            vec![],
        )
        .await?;
    ensure!(status == json!(422), "the refused log answered HTTP {status}, not 422");
    assert_h1(c, "Today").await?;
    let message = wait_for_text(c, "form#log p.field-error, form#log p.error").await?;
    ensure!(
        message.contains("next_step is missing"),
        "the refusal says {message:?}, not that next_step is missing"
    );
    // The form sits below Today's list: scroll to the message, as the seller has to.
    let shown = c.find(Locator::Css("form#log p.field-error, form#log p.error")).await?;
    c.execute(
        "arguments[0].scrollIntoView({block: 'center'});",
        vec![serde_json::to_value(&shown)?],
    )
    .await?;
    artifacts.screenshot(c, 3, "refused").await?;

    // c. Log it properly: stayed, next step in three days that the buyer committed to.
    c.find(Locator::Css("form#log select[name=deal]"))
        .await?
        .select_by_value(&choice)
        .await?;
    c.find(Locator::Css("form#log input[name=result][value=stayed]"))
        .await?
        .click()
        .await?;
    c.find(Locator::Css("form#log input[name=ending][value=next]"))
        .await?
        .click()
        .await?;
    let due_at = Timestamp::now()
        .checked_add(SignedDuration::from_hours(72))?
        .to_zoned_datetime(TimeZone::UTC);
    let next_at = due_at.strftime("%Y-%m-%dT%H:%M").to_string();
    let next_at_field = c.find(Locator::Css("form#log input[name=next_at]")).await?;
    ensure!(
        next_at_field.attr("type").await?.as_deref() == Some("datetime-local"),
        "next_at is not a datetime-local input"
    );
    c.execute(
        "arguments[0].value = arguments[1];",
        vec![serde_json::to_value(&next_at_field)?, json!(next_at)],
    )
    .await?;
    let committed = c.find(Locator::Css("form#log input[name=buyer_committed]")).await?;
    if !committed.is_selected().await? {
        committed.click().await?;
    }
    let notes = c.find(Locator::Css("form#log textarea[name=notes]")).await?;
    notes.clear().await?;
    notes.send_keys(NOTES).await?;
    submit_log_form(c).await?;
    wait_for_path(c, &format!("/deals/{deal}")).await?;
    let url = c.current_url().await?;
    ensure!(
        url.query() == Some("logged=1"),
        "the deal page was reached as {url}, not with ?logged=1"
    );
    let notice = wait_for_text(c, "p.notice").await?;
    ensure!(notice.contains("Logged."), "the notice says {notice:?}");
    let next_step = text(c, "#next-step").await?;
    ensure!(
        next_step.contains("buyer committed"),
        "the next step is not shown as buyer committed: {next_step:?}"
    );
    // The time typed is the time kept (the demo org counts time in UTC).
    let day = due_at.strftime("%Y-%m-%d %H:%M").to_string();
    ensure!(
        next_step.contains(&day),
        "the next step is not due on {day}: {next_step:?}"
    );
    let interactions = text(c, "#interactions").await?;
    ensure!(
        interactions.contains(NOTES),
        "the interactions do not show the notes: {interactions:?}"
    );
    artifacts.screenshot(c, 4, "deal").await?;

    // The seller's own give-up curve: a report page whose chart the browser draws.
    c.goto(&format!("{base}/reports/month-gap")).await?;
    assert_h1(c, "Month gap").await?;
    let chart = c.find(Locator::Css("figure.chart svg")).await?;
    let (_, _, width, height) = chart.rectangle().await?;
    ensure!(width > 300.0 && height > 150.0, "the burn-up chart is {width}x{height}");
    artifacts.screenshot(c, 5, "month-gap").await?;
    Ok(())
}

/// Picks, in the log form, a buyer from the chosen deal's account, as a seller would; leaves
/// "(no buyer reached)" when Today names no contact of that account.
async fn choose_contact_of_deal(c: &Client, deal: &str) -> Result<()> {
    let row = c
        .find(Locator::XPath(&format!(
            "//main//table//tr[.//a[@href='/deals/{deal}']]"
        )))
        .await?;
    let account = match row.find(Locator::Css("span.muted")).await {
        Ok(span) => span.text().await?,
        Err(_) => return Ok(()),
    };
    if account.trim().is_empty() {
        return Ok(());
    }
    let suffix = format!("({})", account.trim());
    for option in c.find_all(Locator::Css("form#log select[name=contact] option")).await? {
        if option.text().await?.trim().ends_with(&suffix) {
            let value = option.attr("value").await?.unwrap_or_default();
            c.find(Locator::Css("form#log select[name=contact]"))
                .await?
                .select_by_value(&value)
                .await?;
            break;
        }
    }
    Ok(())
}

async fn submit_log_form(c: &Client) -> Result<()> {
    c.find(Locator::Css("form#log button[type=submit]"))
        .await?
        .click()
        .await?;
    Ok(())
}

async fn assert_h1(c: &Client, expected: &str) -> Result<()> {
    let h1 = wait_for_text(c, "h1").await?;
    ensure!(h1.trim() == expected, "the page's h1 is {h1:?}, not {expected:?}");
    Ok(())
}

async fn text(c: &Client, css: &str) -> Result<String> {
    Ok(c.find(Locator::Css(css)).await?.text().await?)
}

/// The text of the first element matching `css`, once the page shows one.
async fn wait_for_text(c: &Client, css: &str) -> Result<String> {
    let element = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .with_context(|| format!("waiting for {css}"))?;
    Ok(element.text().await?)
}

/// Waits until the browser has loaded a page at `path`.
async fn wait_for_path(c: &Client, path: &str) -> Result<()> {
    let deadline = Instant::now() + WAIT;
    loop {
        // Mid-navigation the driver may answer with an error: that is "not yet".
        let url = c.current_url().await;
        let ready = c.execute("return document.readyState;", vec![]).await;
        if url.as_ref().is_ok_and(|u| u.path() == path) && ready.as_ref().is_ok_and(|r| *r == json!("complete")) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("waited {WAIT:?} for {path}; the browser is at {url:?} ({ready:?})");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Where screenshots go: `target/browser-artifacts/`.
struct Artifacts {
    dir: PathBuf,
    backend: &'static str,
}

impl Artifacts {
    fn new(backend: &'static str) -> Result<Artifacts> {
        let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"),
            PathBuf::from,
        );
        let dir = target.join("browser-artifacts");
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        // A failure page left by an earlier run would mislead.
        for stale in ["png", "html"] {
            let _ = std::fs::remove_file(dir.join(format!("{backend}-failure.{stale}")));
        }
        Ok(Artifacts { dir, backend })
    }

    async fn screenshot(&self, c: &Client, n: u32, name: &str) -> Result<()> {
        let png = c.screenshot().await?;
        ensure!(png.starts_with(b"\x89PNG"), "the screenshot of {name} is not a PNG");
        let path = self.dir.join(format!("{}-{n:02}-{name}.png", self.backend));
        std::fs::write(&path, png).with_context(|| format!("writing {}", path.display()))?;
        Ok(())
    }

    /// Best effort: what the browser showed when a step failed.
    async fn failure(&self, c: &Client) {
        if let Ok(png) = c.screenshot().await {
            let _ = std::fs::write(self.dir.join(format!("{}-failure.png", self.backend)), png);
        }
        if let Ok(html) = c.source().await {
            let _ = std::fs::write(self.dir.join(format!("{}-failure.html", self.backend)), html);
        }
    }
}

/// A chromedriver process, killed when dropped.
struct ChromeDriver {
    child: Child,
    port: u16,
}

impl ChromeDriver {
    fn start(log: &Path) -> Result<ChromeDriver> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let out = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .with_context(|| format!("starting {CHROMEDRIVER}"))?;
        let mut driver = ChromeDriver { child, port };
        let deadline = Instant::now() + WAIT;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = driver.child.try_wait()? {
                bail!("chromedriver exited with {status}; see {}", log.display());
            }
            if Instant::now() > deadline {
                bail!("chromedriver did not answer on port {port} within {WAIT:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(driver)
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A WebDriver session in a fresh headless Chromium profile.
async fn connect(driver: &ChromeDriver, profile: &Path) -> Result<Client> {
    let mut caps = Capabilities::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1280,2000",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let client = tokio::time::timeout(
        WAIT,
        ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", driver.port)),
    )
    .await
    .context("chromedriver did not start Chromium in time")?
    .context("starting a Chromium session")?;
    client
        .update_timeouts(TimeoutConfiguration::new(Some(WAIT), Some(WAIT), Some(Duration::ZERO)))
        .await?;
    Ok(client)
}
