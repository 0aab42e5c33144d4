//! A minimal HTTP/1.1 keep-alive client over one TCP connection, enough to drive the
//! server from the same box without a client library's own overhead in the figures.
//! Loopback only: it speaks plain HTTP and reads `Content-Length` or chunked bodies.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};

use anyhow::{bail, Context};

/// One request: method, path, extra header lines, body.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: &'static str,
    pub path: String,
    pub headers: String,
    pub body: Option<String>,
}

impl Request {
    pub fn get(path: impl Into<String>, headers: &str) -> Request {
        Request {
            method: "GET",
            path: path.into(),
            headers: headers.to_owned(),
            body: None,
        }
    }

    pub fn post_json(path: impl Into<String>, headers: &str, body: String) -> Request {
        Request {
            method: "POST",
            path: path.into(),
            headers: headers.to_owned(),
            body: Some(body),
        }
    }
}

#[derive(Debug)]
pub struct Client {
    addr: SocketAddr,
    reader: Option<BufReader<TcpStream>>,
}

impl Client {
    pub fn new(addr: SocketAddr) -> Client {
        Client { addr, reader: None }
    }

    /// Sends `req` and reads the whole response; returns the status and body. Reconnects
    /// once if the kept-alive connection was closed by the server.
    pub fn send(&mut self, req: &Request) -> anyhow::Result<(u16, Vec<u8>)> {
        match self.try_send(req) {
            Ok(r) => Ok(r),
            Err(_) => {
                self.reader = None;
                self.try_send(req)
            }
        }
    }

    fn try_send(&mut self, req: &Request) -> anyhow::Result<(u16, Vec<u8>)> {
        if self.reader.is_none() {
            let stream = TcpStream::connect(self.addr).context("connecting")?;
            stream.set_nodelay(true)?;
            self.reader = Some(BufReader::with_capacity(64 * 1024, stream));
        }
        let reader = self.reader.as_mut().expect("connected above");
        let mut head = format!("{} {} HTTP/1.1\r\nHost: bench\r\n{}", req.method, req.path, req.headers);
        if let Some(body) = &req.body {
            head.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            ));
        } else {
            head.push_str("\r\n");
        }
        reader.get_mut().write_all(head.as_bytes())?;
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            bail!("connection closed");
        }
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .with_context(|| format!("bad status line {line:?}"))?;
        let (mut length, mut chunked, mut close) = (None, false, false);
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let (name, value) = l.split_once(':').unwrap_or((l, ""));
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = value.parse::<usize>().ok();
            } else if name.eq_ignore_ascii_case("transfer-encoding") && value.eq_ignore_ascii_case("chunked") {
                chunked = true;
            } else if name.eq_ignore_ascii_case("connection") && value.eq_ignore_ascii_case("close") {
                close = true;
            }
        }
        let mut body = Vec::new();
        if chunked {
            loop {
                line.clear();
                reader.read_line(&mut line)?;
                let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                    .with_context(|| format!("bad chunk size {line:?}"))?;
                let start = body.len();
                body.resize(start + size, 0);
                reader.read_exact(&mut body[start..])?;
                line.clear();
                reader.read_line(&mut line)?;
                if size == 0 {
                    break;
                }
            }
        } else if let Some(n) = length {
            body.resize(n, 0);
            reader.read_exact(&mut body)?;
        }
        if close {
            self.reader = None;
        }
        Ok((status, body))
    }
}
