//! End to end against a real redis-server: the schedule is kept and every reply is matched.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command as Proc, Stdio};
use std::time::{Duration, Instant};

use shrike_loadgen::{run, Command, Config};

const REDIS: &str = "/usr/bin/redis-server";

/// Kills the server even when the test fails.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_redis() -> Option<(Server, u16)> {
    if !Path::new(REDIS).exists() {
        eprintln!("skipping: {REDIS} not installed");
        return None;
    }
    // The tests of this file run at once, and the port a dropped listener had can be handed
    // out again: a server that lost the race for its port exits, and the test tries another
    // (otherwise it would talk to the other test's server, which goes away under it).
    for _ in 0..10 {
        if let Some(started) = try_start_redis() {
            return Some(started);
        }
    }
    panic!("redis-server did not start");
}

/// A redis-server of this test's own on a free port, or None if it exited (port taken).
fn try_start_redis() -> Option<(Server, u16)> {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Proc::new(REDIS)
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
        ])
        .args(["--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut server = Server(child);
    let start = Instant::now();
    loop {
        if server.0.try_wait().unwrap().is_some() {
            return None;
        }
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            // Listening, and still alive afterwards: the port is this server's.
            std::thread::sleep(Duration::from_millis(50));
            if server.0.try_wait().unwrap().is_none() {
                return Some((server, port));
            }
            return None;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "redis-server did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn one_second_at_2000_rps_against_redis() {
    let Some((_server, port)) = start_redis() else {
        return;
    };
    for command in [Command::Set, Command::Get] {
        let cfg = Config {
            port,
            rate: 2000,
            duration_s: 1.0,
            connections: 4,
            threads: 2,
            command,
            keyspace: 1000,
            warmup_s: 0.2,
            ..Config::default()
        };
        let r = run(&cfg).unwrap();
        assert_eq!(r.sent, 2000, "{command:?}");
        assert!(
            r.completed + 2 >= r.sent,
            "{command:?}: {} of {}",
            r.completed,
            r.sent
        );
        assert_eq!(r.errors, 0);
        assert_eq!(r.latency_ns.len(), r.completed);
        assert!(r.quantile_us(0.5) > 0.0);
        // An idle local redis answers 2000 rps in well under 10 ms.
        assert!(r.quantile_us(0.5) < 10_000.0, "{}", r.summary(&cfg));
    }
}

#[test]
fn error_replies_are_counted() {
    let Some((_server, port)) = start_redis() else {
        return;
    };
    // A string key holding a list makes GET answer -WRONGTYPE: an error reply.
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    std::io::Write::write_all(&mut s, b"*3\r\n$5\r\nLPUSH\r\n$5\r\nkey:0\r\n$1\r\nx\r\n").unwrap();
    let mut buf = [0u8; 16];
    let _ = std::io::Read::read(&mut s, &mut buf).unwrap();
    let cfg = Config {
        port,
        rate: 500,
        duration_s: 0.5,
        connections: 2,
        command: Command::Get,
        keyspace: 1,
        warmup_s: 0.0,
        ..Config::default()
    };
    let r = run(&cfg).unwrap();
    assert_eq!(r.sent, 250);
    assert_eq!(r.completed, 250);
    assert_eq!(r.errors, 250);
}
