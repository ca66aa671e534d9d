//! `loadgen`: an open-loop Redis load generator.
//!
//! Sends `--rate` requests per second spread evenly over `--connections` connections (run by
//! `--threads` threads), on a fixed schedule: request i is due at i/rate seconds, and is sent
//! then even if earlier replies have not arrived (several at once, pipelined, when a
//! connection fell behind). Latency is measured from that *scheduled* time to the moment
//! the whole reply has been read, so a server that cannot keep up shows growing latencies
//! instead of hiding them (no coordinated omission). Percentiles come from an HdrHistogram
//! (ns, 3 significant digits).
//!
//! ```text
//! loadgen --host 127.0.0.1 --port 6379 --rate 50000 --duration 10 --connections 50 \
//!         --threads 1 --command get --keyspace 100000 --value-size 32 --warmup 1 [--json]
//! ```
//!
//! - `--command get|set|ping`: `GET key:<n>` / `SET key:<n> <value-size bytes of 'x'>` /
//!   `PING`, n uniform in 0..keyspace.
//! - `--warmup S`: run S seconds at the same rate first, unrecorded (default 1).
//! - After `--duration` no more requests are sent; outstanding replies are awaited for up
//!   to 2 s, the rest count as not completed.
//! - Counts: `sent` = requests scheduled in the measured window; `completed` = their replies
//!   (error replies included); `errors` = `-ERR` replies plus connections lost.
//! - `--json`: one JSON object line on stdout (`rate, duration_s, connections, command, sent,
//!   completed, errors, achieved_rps, p50_us, p90_us, p99_us, p999_us, max_us, mean_us`);
//!   otherwise a human summary. A progress line per second goes to stderr either way.
//!
//! Nothing is pinned: run it under `taskset` to keep it off the server's cores. One thread
//! handles on the order of 100k requests/s; add `--threads` beyond that.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use shrike_loadgen::{load, start, Command, Config};

const USAGE: &str = "usage: loadgen [--host H] [--port P] [--rate RPS] [--duration S] \
[--connections C] [--threads T] [--command get|set|ping] [--keyspace N] [--value-size B] \
[--warmup S] [--json]";

fn main() -> ExitCode {
    let (cfg, json) = match parse_args(std::env::args().skip(1)) {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("loadgen: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let run = match start(&cfg) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("loadgen: {}:{}: {e}", cfg.host, cfg.port);
            return ExitCode::FAILURE;
        }
    };
    report_progress(&run, &cfg);
    match run.join() {
        Ok(report) => {
            let lag = report.send_lag_us(0.99);
            if lag > 1000.0 {
                eprintln!(
                    "loadgen: warning: p99 send lag {lag:.0} us: the generator fell behind its \
                     schedule (CPU-starved? try more --threads or another core)"
                );
            }
            if json {
                println!("{}", report.json(&cfg));
            } else {
                println!("{}", report.summary(&cfg));
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("loadgen: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Prints one line per second to stderr until the workers are done.
fn report_progress(run: &shrike_loadgen::Run, cfg: &Config) {
    let p = &run.progress;
    let (mut sent, mut done) = (0, 0);
    for sec in 1u64.. {
        let tick = run.t0 + Duration::from_secs(sec);
        // Poll for completion meanwhile so the drain does not keep us waiting a whole second.
        while Instant::now() < tick {
            if run.is_finished() {
                return;
            }
            std::thread::sleep(
                tick.saturating_duration_since(Instant::now())
                    .min(Duration::from_millis(20)),
            );
        }
        let (s, d, e) = (load(&p.sent), load(&p.completed), load(&p.errors));
        let phase = if (sec as f64) <= cfg.warmup_s {
            "warmup"
        } else if (sec as f64) <= cfg.warmup_s + cfg.duration_s {
            "run"
        } else {
            "drain"
        };
        eprintln!(
            "[{sec:>3}s {phase:<6}] sent/s {:>8}  replies/s {:>8}  in flight {:>7}  errors {}",
            s - sent,
            d - done,
            s.saturating_sub(d),
            e
        );
        (sent, done) = (s, d);
    }
}

/// The config and `--json`, or `None` for `--help`.
fn parse_args(args: impl Iterator<Item = String>) -> Result<Option<(Config, bool)>, String> {
    let mut cfg = Config::default();
    let mut json = false;
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (arg, None),
        };
        match name.as_str() {
            "--json" => json = true,
            "-h" | "--help" => return Ok(None),
            _ => {
                let value = inline
                    .or_else(|| args.next())
                    .ok_or_else(|| format!("{name} needs a value"))?;
                set_option(&mut cfg, &name, &value)?;
            }
        }
    }
    Ok(Some((cfg, json)))
}

fn set_option(cfg: &mut Config, name: &str, v: &str) -> Result<(), String> {
    fn num<T: std::str::FromStr>(name: &str, v: &str) -> Result<T, String> {
        v.parse().map_err(|_| format!("{name}: bad value {v:?}"))
    }
    match name {
        "--host" => cfg.host = v.to_string(),
        "--port" => cfg.port = num(name, v)?,
        "--rate" => cfg.rate = num(name, v)?,
        "--duration" => cfg.duration_s = num(name, v)?,
        "--connections" => cfg.connections = num(name, v)?,
        "--threads" => cfg.threads = num(name, v)?,
        "--keyspace" => cfg.keyspace = num(name, v)?,
        "--value-size" => cfg.value_size = num(name, v)?,
        "--warmup" => cfg.warmup_s = num(name, v)?,
        "--command" => {
            cfg.command = Command::parse(v).ok_or_else(|| format!("unknown command {v:?}"))?
        }
        _ => return Err(format!("unknown option {name}")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Option<(Config, bool)>, String> {
        parse_args(s.split_whitespace().map(String::from))
    }

    #[test]
    fn parses_every_option() {
        let (cfg, json) = parse(
            "--host h --port 7000 --rate 25000 --duration 2.5 --connections 8 --threads 2 \
             --command=SET --keyspace 10 --value-size 100 --warmup 0 --json",
        )
        .unwrap()
        .unwrap();
        assert!(json);
        assert_eq!(
            cfg,
            Config {
                host: "h".into(),
                port: 7000,
                rate: 25_000,
                duration_s: 2.5,
                connections: 8,
                threads: 2,
                command: Command::Set,
                keyspace: 10,
                value_size: 100,
                warmup_s: 0.0,
            }
        );
    }

    #[test]
    fn rejects_bad_input() {
        assert!(parse("--rate").is_err());
        assert!(parse("--rate fast").is_err());
        assert!(parse("--command del").is_err());
        assert!(parse("--bogus 1").is_err());
        assert_eq!(parse("--help"), Ok(None));
    }
}
