//! Shrike's open-loop Redis load generator (the `loadgen` binary is a thin CLI over `run`).
//!
//! Requests go out on a fixed schedule whatever the server does, and each latency is counted
//! from the request's *scheduled* time, so a stalled server shows up as the queueing delay it
//! causes rather than as fewer, fast-looking samples (coordinated omission).
//!
//! - `schedule.rs`: when request i is due, per connection.
//! - `resp.rs`: request encoding and reply framing.
//! - `worker.rs`: one thread's event loop over its connections.
//! - `timer.rs`: the ns timer that loop sleeps on.

pub mod resp;
pub mod schedule;
mod timer;
mod worker;

use std::io;
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

/// Which request every connection sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// `GET key:<n>`.
    Get,
    /// `SET key:<n> <value-size bytes>`.
    Set,
    /// `PING`.
    Ping,
}

impl Command {
    /// The lower-case name used on the command line and in the JSON.
    pub fn name(self) -> &'static str {
        match self {
            Command::Get => "get",
            Command::Set => "set",
            Command::Ping => "ping",
        }
    }

    /// Parses `get`, `set` or `ping` (any case).
    pub fn parse(s: &str) -> Option<Command> {
        match s.to_ascii_lowercase().as_str() {
            "get" => Some(Command::Get),
            "set" => Some(Command::Set),
            "ping" => Some(Command::Ping),
            _ => None,
        }
    }
}

/// One run's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Server host name or address.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// Requests per second over all connections.
    pub rate: u64,
    /// Seconds measured.
    pub duration_s: f64,
    /// Connections, spread over the threads.
    pub connections: usize,
    /// Worker threads.
    pub threads: usize,
    /// The request sent.
    pub command: Command,
    /// Keys are `key:0` .. `key:<keyspace-1>`, picked uniformly at random.
    pub keyspace: u64,
    /// SET value size in bytes.
    pub value_size: usize,
    /// Seconds run at the same rate before measuring, not recorded.
    pub warmup_s: f64,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            host: "127.0.0.1".into(),
            port: 6379,
            rate: 50_000,
            duration_s: 10.0,
            connections: 50,
            threads: 1,
            command: Command::Get,
            keyspace: 100_000,
            value_size: 32,
            warmup_s: 1.0,
        }
    }
}

/// How long to wait for outstanding replies once sending stops.
pub const DRAIN: Duration = Duration::from_secs(2);

/// Largest latency the histogram holds, in ns; longer ones are recorded as this.
const MAX_LATENCY_NS: u64 = 3_600 * 1_000_000_000;

/// A latency histogram in ns: 3 significant digits, up to an hour.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_NS, 3).expect("valid histogram bounds")
}

/// Counters of every request, warmup included, for the once-a-second progress line.
#[derive(Debug, Default)]
pub struct Progress {
    /// Requests written (or queued to write).
    pub sent: AtomicU64,
    /// Replies read.
    pub completed: AtomicU64,
    /// Error replies plus failed connections.
    pub errors: AtomicU64,
}

/// The measured part of a run: only requests scheduled after the warmup count.
#[derive(Debug, Clone)]
pub struct Report {
    /// Requests scheduled in the measured window (and so sent, late or not).
    pub sent: u64,
    /// Of those, replies read before the drain deadline (error replies included).
    pub completed: u64,
    /// Error replies to measured requests, plus connections lost during the run.
    pub errors: u64,
    /// Latency from scheduled send to full reply, ns.
    pub latency_ns: Histogram<u64>,
    /// How late after its scheduled time each request was handed to the socket, ns. Large
    /// values mean the generator itself fell behind (add threads), not the server.
    pub send_lag_ns: Histogram<u64>,
}

impl Report {
    /// Completed replies per second of measured time.
    pub fn achieved_rps(&self, cfg: &Config) -> f64 {
        self.completed as f64 / cfg.duration_s
    }

    /// Latency at quantile `q` (0..=1) in µs; 0 when nothing completed.
    pub fn quantile_us(&self, q: f64) -> f64 {
        if self.latency_ns.is_empty() {
            return 0.0;
        }
        self.latency_ns.value_at_quantile(q) as f64 / 1000.0
    }

    /// Maximum and mean latency in µs; zeros when nothing completed.
    fn max_mean_us(&self) -> (f64, f64) {
        let h = &self.latency_ns;
        if h.is_empty() {
            (0.0, 0.0)
        } else {
            (h.max() as f64 / 1000.0, h.mean() / 1000.0)
        }
    }

    /// The one-line JSON result.
    pub fn json(&self, cfg: &Config) -> String {
        let (max, mean) = self.max_mean_us();
        format!(
            concat!(
                "{{\"rate\":{},\"duration_s\":{},\"connections\":{},\"command\":\"{}\",",
                "\"sent\":{},\"completed\":{},\"errors\":{},\"achieved_rps\":{:.1},",
                "\"p50_us\":{:.3},\"p90_us\":{:.3},\"p99_us\":{:.3},\"p999_us\":{:.3},",
                "\"max_us\":{:.3},\"mean_us\":{:.3}}}"
            ),
            cfg.rate,
            cfg.duration_s,
            cfg.connections,
            cfg.command.name(),
            self.sent,
            self.completed,
            self.errors,
            self.achieved_rps(cfg),
            self.quantile_us(0.5),
            self.quantile_us(0.9),
            self.quantile_us(0.99),
            self.quantile_us(0.999),
            max,
            mean,
        )
    }

    /// A few lines for people.
    pub fn summary(&self, cfg: &Config) -> String {
        let (max, mean) = self.max_mean_us();
        format!(
            "{} at {} rps for {} s over {} connections ({} threads)\n\
             sent {}  completed {}  errors {}  achieved {:.1} rps\n\
             latency us: p50 {:.1}  p90 {:.1}  p99 {:.1}  p99.9 {:.1}  max {:.1}  mean {:.1}\n\
             send lag us (generator): p50 {:.1}  p99 {:.1}  max {:.1}",
            cfg.command.name(),
            cfg.rate,
            cfg.duration_s,
            cfg.connections,
            cfg.threads,
            self.sent,
            self.completed,
            self.errors,
            self.achieved_rps(cfg),
            self.quantile_us(0.5),
            self.quantile_us(0.9),
            self.quantile_us(0.99),
            self.quantile_us(0.999),
            max,
            mean,
            self.send_lag_us(0.5),
            self.send_lag_us(0.99),
            self.send_lag_us(1.0),
        )
    }

    /// Send lag at quantile `q` in µs.
    pub fn send_lag_us(&self, q: f64) -> f64 {
        if self.send_lag_ns.is_empty() {
            return 0.0;
        }
        self.send_lag_ns.value_at_quantile(q) as f64 / 1000.0
    }
}

/// A running load: its threads, its clock and its live counters.
pub struct Run {
    /// The schedule's time zero (the warmup starts here).
    pub t0: Instant,
    /// Live counters for progress output.
    pub progress: Arc<Progress>,
    workers: Vec<std::thread::JoinHandle<io::Result<worker::Outcome>>>,
}

impl Run {
    /// Whether every worker has finished (sending and draining).
    pub fn is_finished(&self) -> bool {
        self.workers.iter().all(|w| w.is_finished())
    }

    /// Waits for the workers and merges their results.
    pub fn join(self) -> io::Result<Report> {
        let mut report = Report {
            sent: 0,
            completed: 0,
            errors: 0,
            latency_ns: new_histogram(),
            send_lag_ns: new_histogram(),
        };
        for w in self.workers {
            let out = w
                .join()
                .map_err(|_| io::Error::other("worker thread panicked"))??;
            report.sent += out.sent;
            report.completed += out.completed;
            report.errors += out.errors;
            let merge = |into: &mut Histogram<u64>, from: &Histogram<u64>| {
                into.add(from)
                    .map_err(|e| io::Error::other(format!("{e:?}")))
            };
            merge(&mut report.latency_ns, &out.latency_ns)?;
            merge(&mut report.send_lag_ns, &out.send_lag_ns)?;
        }
        Ok(report)
    }
}

/// Connects every connection, then starts the workers on a shared schedule.
pub fn start(cfg: &Config) -> io::Result<Run> {
    if cfg.rate == 0 || cfg.connections == 0 || cfg.keyspace == 0 {
        return Err(io::Error::other(
            "rate, connections and keyspace must be > 0",
        ));
    }
    if !(cfg.duration_s > 0.0 && cfg.warmup_s >= 0.0) {
        return Err(io::Error::other("duration must be > 0 and warmup >= 0"));
    }
    let threads = cfg.threads.clamp(1, cfg.connections);
    let mut per_thread: Vec<Vec<(usize, TcpStream)>> = (0..threads).map(|_| Vec::new()).collect();
    for c in 0..cfg.connections {
        let s = TcpStream::connect((cfg.host.as_str(), cfg.port))?;
        s.set_nodelay(true)?;
        s.set_nonblocking(true)?;
        per_thread[c % threads].push((c, s));
    }
    // A little slack so every thread is waiting before request 0 is due.
    let t0 = Instant::now() + Duration::from_millis(20);
    let progress = Arc::new(Progress::default());
    let workers = per_thread
        .into_iter()
        .enumerate()
        .map(|(t, conns)| {
            let w = worker::Worker::new(cfg, t, conns, t0, progress.clone());
            std::thread::Builder::new()
                .name(format!("loadgen-{t}"))
                .spawn(move || w?.run())
        })
        .collect::<io::Result<Vec<_>>>()?;
    Ok(Run {
        t0,
        progress,
        workers,
    })
}

/// Runs the whole load and returns the measured result.
pub fn run(cfg: &Config) -> io::Result<Report> {
    start(cfg)?.join()
}

/// Loads a counter for progress output.
pub fn load(c: &AtomicU64) -> u64 {
    c.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_has_every_field_once() {
        let mut h = new_histogram();
        for v in [10_000u64, 20_000, 30_000] {
            h.record(v).unwrap();
        }
        let r = Report {
            sent: 3,
            completed: 3,
            errors: 0,
            latency_ns: h,
            send_lag_ns: new_histogram(),
        };
        let cfg = Config {
            duration_s: 1.0,
            ..Config::default()
        };
        let j = r.json(&cfg);
        assert!(j.starts_with("{\"rate\":50000,\"duration_s\":1,"), "{j}");
        assert!(!j.contains('\n'));
        for f in [
            "connections",
            "command",
            "sent",
            "completed",
            "errors",
            "achieved_rps",
            "p50_us",
            "p90_us",
            "p99_us",
            "p999_us",
            "max_us",
            "mean_us",
        ] {
            assert_eq!(j.matches(&format!("\"{f}\":")).count(), 1, "{f} in {j}");
        }
        assert!(j.contains("\"p50_us\":20.0"), "{j}");
        assert!(j.contains("\"achieved_rps\":3.0"), "{j}");
    }
}
