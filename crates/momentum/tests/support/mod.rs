//! The real `momentum` binary as an operator runs it, for the fault and log tests: the
//! CLI to set an org up, `momentum serve` as a child process on a free port (its stderr
//! captured to a file), and a small blocking HTTP/1.1 client with timeouts, so a server
//! that hangs fails the test instead of stalling it.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const PASSWORD: &str = "a long test password";

pub fn momentum(location: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_momentum"));
    c.env_remove("MOMENTUM_AS")
        .env_remove("MOMENTUM_ORG")
        .env_remove("MOMENTUM_LOG")
        .env("MOMENTUM_DB", location);
    c
}

/// Runs the CLI, asserting success; its stdout.
pub fn cli(location: &str, args: &[&str]) -> String {
    let out = momentum(location).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs the CLI with `stdin` as its standard input, asserting success.
pub fn cli_with_input(location: &str, args: &[&str], stdin: &str) -> String {
    let mut child = momentum(location)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// An org "Acme" with a seller (sam@acme.test, password [`PASSWORD`]), one account and one
/// contact; the seller's API token.
pub fn acme(location: &str) -> String {
    cli_with_input(
        location,
        &[
            "org",
            "create",
            "Acme",
            "--admin-email",
            "ada@acme.test",
            "--admin-name",
            "Ada",
            "--password-stdin",
        ],
        PASSWORD,
    );
    cli(
        location,
        &[
            "user",
            "add",
            "--email",
            "mia@acme.test",
            "--name",
            "Mia",
            "--role",
            "manager",
        ],
    );
    cli_with_input(
        location,
        &[
            "user",
            "add",
            "--email",
            "sam@acme.test",
            "--name",
            "Sam",
            "--role",
            "seller",
            "--manager",
            "mia@acme.test",
            "--password-stdin",
        ],
        PASSWORD,
    );
    cli(location, &["account", "add", "Globex"]);
    cli(location, &["contact", "add", "Hank Buyer", "--account", "1"]);
    token(location, "sam@acme.test")
}

pub fn token(location: &str, email: &str) -> String {
    let out = cli(
        location,
        &["--as", email, "--format", "json", "token", "create", "--name", "tests"],
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    v["token"].as_str().unwrap().to_owned()
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `momentum serve`, killed when dropped.
pub struct Server {
    pub child: Child,
    pub port: u16,
    pub log: PathBuf,
}

impl Server {
    /// Starts the server over `location` with extra environment, and waits until it
    /// answers `/healthz` (panics after 30 s).
    pub fn start(location: &str, log_dir: &Path, env: &[(&str, &str)]) -> Server {
        let mut server = Server::spawn(location, log_dir, env);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = server.request("GET", "/healthz", None, None) {
                if r.status == 200 {
                    return server;
                }
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("the server exited ({status}): {}", server.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "the server never became healthy: {}",
                server.log_text()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Starts the server without waiting for it.
    pub fn spawn(location: &str, log_dir: &Path, env: &[(&str, &str)]) -> Server {
        let port = free_port();
        let log = log_dir.join(format!("serve-{port}.log"));
        let file = std::fs::File::create(&log).unwrap();
        let mut command = momentum(location);
        command
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .current_dir(log_dir)
            .stdout(Stdio::null())
            .stderr(file);
        for (k, v) in env {
            command.env(k, v);
        }
        Server {
            child: command.spawn().unwrap(),
            port,
            log,
        }
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> std::io::Result<Reply> {
        request(self.port, method, path, token, body, Duration::from_secs(15))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// One HTTP/1.1 request on a fresh connection, with a read timeout: an error when the
/// server is gone or does not answer in `timeout`.
pub fn request(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
    timeout: Duration,
) -> std::io::Result<Reply> {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = Vec::new();
    if let Some(a) = &auth {
        headers.push(("Authorization", a.as_str()));
    }
    let body = body.map(Value::to_string).unwrap_or_default();
    if !body.is_empty() {
        headers.push(("Content-Type", "application/json"));
    }
    raw(port, method, path, &headers, &body, timeout).map(|(status, _, body)| Reply { status, body })
}

/// A request with any headers; the status, the response head and the body.
pub fn raw(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
    timeout: Duration,
) -> std::io::Result<(u16, String, String)> {
    let mut conn = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(2))?;
    conn.set_read_timeout(Some(timeout))?;
    conn.set_write_timeout(Some(timeout))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    conn.write_all(head.as_bytes())?;
    conn.write_all(body.as_bytes())?;
    let mut raw = Vec::new();
    conn.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other(format!("no HTTP answer: {text:?}")))?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no status: {head:?}")))?;
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Ok((status, head.to_owned(), body))
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// A small deterministic generator (xorshift), seeded and printed so a run can be replayed.
pub struct Rng(pub u64);

impl Rng {
    pub fn from_env(var: &str) -> Rng {
        let seed = std::env::var(var).ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
        eprintln!("{var}={seed}");
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// How many times a long-run knob says, or `default`.
pub fn knob(var: &str, default: usize) -> usize {
    std::env::var(var).ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

/// SQL straight on the database (the checks must not trust the server).
pub fn count(location: &str, sql: &str, params: Vec<momentum_store::sql::Val>) -> i64 {
    let mut store = momentum_store::Store::open(location).unwrap();
    store.read(|tx| tx.query(sql, &params)?[0].int(0)).unwrap()
}
