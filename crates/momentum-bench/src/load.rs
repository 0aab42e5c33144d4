//! Load generation: closed loops (N clients, each sending its next request when the last
//! answered) for throughput and latency, and an open loop (requests at a fixed rate,
//! latency counted from when each was due, so a stalled server is not hidden) for the
//! capacity search. Every run is bounded in time.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::http::{Client, Request};

/// Latencies and failures of one run.
#[derive(Debug, Default)]
pub struct Outcome {
    pub latencies: Vec<Duration>,
    pub errors: u64,
    pub first_error: Option<String>,
    pub elapsed: Duration,
}

impl Outcome {
    fn merge(&mut self, other: Outcome) {
        self.latencies.extend(other.latencies);
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    pub fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }

    /// The latency below which `q` (0..1) of requests answered.
    pub fn quantile(&mut self, q: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        self.latencies.sort_unstable();
        let i = ((self.latencies.len() as f64 * q).ceil() as usize).clamp(1, self.latencies.len()) - 1;
        self.latencies[i]
    }
}

fn record(out: &mut Outcome, started: Instant, result: anyhow::Result<(u16, Vec<u8>)>) {
    match result {
        Ok((status, _)) if status < 400 => out.latencies.push(started.elapsed()),
        Ok((status, body)) => {
            out.errors += 1;
            out.first_error
                .get_or_insert_with(|| format!("{status}: {}", String::from_utf8_lossy(&body)));
        }
        Err(e) => {
            out.errors += 1;
            out.first_error.get_or_insert_with(|| e.to_string());
        }
    }
}

/// `clients` connections for `duration`; client `c`'s `i`-th request is `next(c, i)`.
pub fn closed<F>(addr: SocketAddr, clients: usize, duration: Duration, next: F) -> Outcome
where
    F: Fn(usize, usize) -> Request + Send + Sync + 'static,
{
    let next = Arc::new(next);
    let start = Instant::now();
    let end = start + duration;
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let next = next.clone();
            std::thread::spawn(move || {
                let mut client = Client::new(addr);
                let mut out = Outcome::default();
                let mut i = 0;
                while Instant::now() < end {
                    let req = next(c, i);
                    let started = Instant::now();
                    record(&mut out, started, client.send(&req));
                    i += 1;
                }
                out
            })
        })
        .collect();
    let mut total = Outcome::default();
    for t in threads {
        total.merge(t.join().expect("a load thread panicked"));
    }
    total.elapsed = start.elapsed();
    total
}

/// How long past its end an open-loop run may go on clearing requests already due.
const GRACE: Duration = Duration::from_secs(2);

/// Requests at `rate` per second for `duration`, spread over `connections` clients;
/// request `n` (over all clients) is `next(n)`. Latency is measured from when a request
/// was due, not from when a busy client got round to sending it.
pub fn open<F>(addr: SocketAddr, rate: f64, connections: usize, duration: Duration, next: F) -> Outcome
where
    F: Fn(usize) -> Request + Send + Sync + 'static,
{
    let next = Arc::new(next);
    let interval = Duration::from_secs_f64(connections as f64 / rate);
    let start = Instant::now();
    let end = start + duration;
    let threads: Vec<_> = (0..connections)
        .map(|c| {
            let next = next.clone();
            std::thread::spawn(move || {
                let mut client = Client::new(addr);
                let mut out = Outcome::default();
                // Stagger the clients evenly over one interval.
                let mut due = start + interval.mul_f64(c as f64 / connections as f64);
                let mut i = 0;
                while due < end {
                    let now = Instant::now();
                    if now > end + GRACE {
                        // The server fell this far behind: what is still due counts as
                        // failed, and the step ends on time.
                        let left = (end - due).as_secs_f64() / interval.as_secs_f64();
                        out.errors += left.ceil() as u64;
                        out.first_error
                            .get_or_insert_with(|| format!("not sent: {:.0} requests behind", left.ceil()));
                        break;
                    }
                    if due > now {
                        std::thread::sleep(due - now);
                    }
                    let req = next(i * connections + c);
                    record(&mut out, due, client.send(&req));
                    due += interval;
                    i += 1;
                }
                out
            })
        })
        .collect();
    let mut total = Outcome::default();
    for t in threads {
        total.merge(t.join().expect("a load thread panicked"));
    }
    total.elapsed = start.elapsed();
    total
}
