//! Memory per key: loads N string keys (16-byte keys, 32-byte values, as the perf goal
//! states it) and prints the process RSS before and after, to compare with redis-server's
//! `used_memory_rss` for the same data. Run: `cargo run --release --example memory [N]`.

use shrike_keyspace::{Config, Keyspace, Op, ReplySink, Session};

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let before = rss_kb();
    let ks = Keyspace::new(Config::default());
    let mut sess = Session::new(1_700_000_000_000);
    let mut out = ReplySink::new();
    let val = [b'v'; 32];
    let t = std::time::Instant::now();
    for i in 0..n {
        let key = format!("key:{i:012}");
        out.clear();
        ks.run(
            &mut sess,
            Op::Set as u16,
            &[b"set", key.as_bytes(), &val],
            &mut out,
        );
    }
    let set_ns = t.elapsed().as_nanos() as f64 / n as f64;
    let after = rss_kb();
    let t = std::time::Instant::now();
    for i in 0..n {
        let key = format!("key:{i:012}");
        out.clear();
        ks.run(
            &mut sess,
            Op::Get as u16,
            &[b"get", key.as_bytes()],
            &mut out,
        );
    }
    let get_ns = t.elapsed().as_nanos() as f64 / n as f64;
    println!("SET {set_ns:.0} ns/op, GET {get_ns:.0} ns/op (one thread, key formatting included)");
    println!(
        "{n} keys: RSS {} MB -> {} MB, {:.1} bytes/key",
        before / 1024,
        after / 1024,
        (after - before) as f64 * 1024.0 / n as f64
    );
}
