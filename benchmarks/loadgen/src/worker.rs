//! One worker thread: its connections, their schedules, and the event loop driving them.
//!
//! The loop never waits for a reply before sending: each pass first queues every request
//! whose time has come (several at once on a connection that fell behind, i.e. pipelined),
//! then sleeps until the next due time or until a socket is ready, whichever is first.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::TcpStream as StdStream;
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use mio::net::TcpStream;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};

use crate::resp::{encode_command, parse_reply};
use crate::schedule::{secs_to_ns, Schedule};
use crate::timer::Timer;
use crate::{new_histogram, Command, Config, Progress, DRAIN};

const TIMER: Token = Token(usize::MAX);
/// Bytes read per syscall.
const READ_CHUNK: usize = 64 * 1024;

/// What one worker measured.
pub(crate) struct Outcome {
    pub(crate) sent: u64,
    pub(crate) completed: u64,
    pub(crate) errors: u64,
    pub(crate) latency_ns: Histogram<u64>,
    pub(crate) send_lag_ns: Histogram<u64>,
}

struct Conn {
    id: usize,
    stream: TcpStream,
    sched: Schedule,
    /// Index (on this connection) of the next request to send, and when it is due.
    next: u64,
    next_due: u64,
    out: Vec<u8>,
    out_pos: usize,
    input: Vec<u8>,
    in_pos: usize,
    /// Due times of the requests sent and not yet answered, oldest first: Redis answers in
    /// order, so the front is the request the next reply belongs to.
    inflight: VecDeque<u64>,
    alive: bool,
}

/// Per-pass tallies; measured ones go to the report, all of them to the progress line.
#[derive(Default)]
struct Tally {
    sent: u64,
    completed: u64,
    errors: u64,
}

pub(crate) struct Worker {
    conns: Vec<Conn>,
    poll: Poll,
    timer: Timer,
    t0: Instant,
    /// The measured window, in ns after t0: requests due in it are counted.
    measure_from: u64,
    measure_to: u64,
    command: Command,
    keyspace: u64,
    value: Vec<u8>,
    rng: u64,
    progress: Arc<Progress>,
    measured: Tally,
    all: Tally,
    latency_ns: Histogram<u64>,
    /// How late requests were queued for sending, to tell a slow server from a slow loadgen.
    send_lag_ns: Histogram<u64>,
    key: Vec<u8>,
    scratch: Vec<u8>,
}

impl Worker {
    /// A worker for connections `conns` (with their global indexes) of the run `cfg`.
    pub(crate) fn new(
        cfg: &Config,
        index: usize,
        conns: Vec<(usize, StdStream)>,
        t0: Instant,
        progress: Arc<Progress>,
    ) -> io::Result<Worker> {
        let poll = Poll::new()?;
        let timer = Timer::new()?;
        poll.registry()
            .register(&mut SourceFd(&timer.as_raw_fd()), TIMER, Interest::READABLE)?;
        let mut out = Vec::with_capacity(conns.len());
        for (i, (id, std)) in conns.into_iter().enumerate() {
            let mut stream = TcpStream::from_std(std);
            poll.registry().register(
                &mut stream,
                Token(i),
                Interest::READABLE | Interest::WRITABLE,
            )?;
            let sched = Schedule::new(id, cfg.connections, cfg.rate);
            out.push(Conn {
                id,
                stream,
                sched,
                next: 0,
                next_due: sched.due_ns(0),
                out: Vec::new(),
                out_pos: 0,
                input: Vec::new(),
                in_pos: 0,
                inflight: VecDeque::new(),
                alive: true,
            });
        }
        let measure_from = secs_to_ns(cfg.warmup_s);
        Ok(Worker {
            conns: out,
            poll,
            timer,
            t0,
            measure_from,
            measure_to: measure_from + secs_to_ns(cfg.duration_s),
            command: cfg.command,
            keyspace: cfg.keyspace,
            value: vec![b'x'; cfg.value_size],
            // Distinct non-zero seeds per thread; the key sequence need not differ per run.
            rng: 0x9E37_79B9_7F4A_7C15_u64.wrapping_mul(index as u64 + 1) | 1,
            progress,
            measured: Tally::default(),
            all: Tally::default(),
            latency_ns: new_histogram(),
            send_lag_ns: new_histogram(),
            key: Vec::with_capacity(32),
            scratch: vec![0; READ_CHUNK],
        })
    }

    fn now_ns(&self) -> u64 {
        self.t0.elapsed().as_nanos() as u64
    }

    fn measured(&self, due: u64) -> bool {
        (self.measure_from..self.measure_to).contains(&due)
    }

    /// Runs the schedule to its end, then waits (up to `DRAIN`) for outstanding replies.
    pub(crate) fn run(mut self) -> io::Result<Outcome> {
        std::thread::sleep(self.t0.saturating_duration_since(Instant::now()));
        let stop_at = self.measure_to;
        let drain_until = stop_at + DRAIN.as_nanos() as u64;
        let mut events = Events::with_capacity(1024);
        // The deadline the timer is armed for, so it is only re-armed when that changes.
        let mut armed: Option<u64> = None;
        loop {
            let now = self.now_ns();
            // Everything due before the end goes out, even when this pass woke up after it.
            for i in 0..self.conns.len() {
                self.send_due(i, now);
            }
            self.publish();
            let sending = self.conns.iter().any(|c| c.alive && c.next_due < stop_at);
            let outstanding = self.conns.iter().any(|c| c.alive && !c.inflight.is_empty());
            let live = self.conns.iter().any(|c| c.alive);
            if !live || (!sending && (!outstanding || now >= drain_until)) {
                break;
            }
            let deadline = if sending {
                self.conns
                    .iter()
                    .filter(|c| c.alive)
                    .map(|c| c.next_due)
                    .min()
                    .unwrap_or(stop_at)
            } else {
                drain_until
            };
            let now = self.now_ns();
            let timeout = if deadline <= now {
                // Already due: only collect what is ready, then go send.
                Some(Duration::ZERO)
            } else {
                if armed != Some(deadline) {
                    self.timer.arm(Duration::from_nanos(deadline - now))?;
                    armed = Some(deadline);
                }
                None
            };
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            for ev in events.iter() {
                let t = ev.token();
                if t == TIMER {
                    // Not read: epoll is edge-triggered, so every expiry is a new event
                    // whether or not the last one was consumed, and re-arming resets it.
                    armed = None;
                    continue;
                }
                if ev.is_writable() {
                    self.flush(t.0);
                }
                if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                    self.read(t.0);
                }
            }
        }
        self.publish();
        Ok(Outcome {
            sent: self.measured.sent,
            completed: self.measured.completed,
            errors: self.measured.errors,
            latency_ns: self.latency_ns,
            send_lag_ns: self.send_lag_ns,
        })
    }

    /// Queues every request of connection `i` due by `now` (and before the end), then writes.
    fn send_due(&mut self, i: usize, now: u64) {
        let stop_at = self.measure_to;
        let mut queued = false;
        while self.conns[i].alive
            && self.conns[i].next_due <= now
            && self.conns[i].next_due < stop_at
        {
            let due = self.conns[i].next_due;
            self.encode_next(i);
            let c = &mut self.conns[i];
            c.inflight.push_back(due);
            c.next += 1;
            c.next_due = c.sched.due_ns(c.next);
            self.all.sent += 1;
            if self.measured(due) {
                self.measured.sent += 1;
                self.send_lag_ns.saturating_record((now - due).max(1));
            }
            queued = true;
        }
        if queued {
            self.flush(i);
        }
    }

    fn encode_next(&mut self, i: usize) {
        let cmd = self.command;
        if cmd != Command::Ping {
            let k = self.next_key();
            self.key.clear();
            // Writing to a Vec cannot fail.
            let _ = write!(self.key, "key:{k}");
        }
        let out = &mut self.conns[i].out;
        match cmd {
            Command::Get => encode_command(out, &[b"GET", &self.key]),
            Command::Set => encode_command(out, &[b"SET", &self.key, &self.value]),
            Command::Ping => encode_command(out, &[b"PING"]),
        }
    }

    /// A key index uniform in 0..keyspace (xorshift64*, then multiply-shift into range).
    fn next_key(&mut self) -> u64 {
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        let r = x.wrapping_mul(0x2545_F491_4F6C_DD1D);
        ((u128::from(r) * u128::from(self.keyspace)) >> 64) as u64
    }

    /// Writes as much of connection `i`'s queued output as the socket takes.
    fn flush(&mut self, i: usize) {
        let c = &mut self.conns[i];
        let failed = loop {
            if !c.alive {
                return;
            }
            if c.out_pos == c.out.len() {
                c.out.clear();
                c.out_pos = 0;
                return;
            }
            match c.stream.write(&c.out[c.out_pos..]) {
                Ok(0) => break "write returned 0".to_string(),
                Ok(n) => c.out_pos += n,
                // The rest goes out on the next writable event.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break e.to_string(),
            }
        };
        self.fail(i, failed);
    }

    /// Reads everything available on connection `i` and accounts for each complete reply.
    fn read(&mut self, i: usize) {
        loop {
            if !self.conns[i].alive {
                return;
            }
            let r = self.conns[i].stream.read(&mut self.scratch);
            match r {
                Ok(0) => return self.fail(i, "server closed the connection".into()),
                Ok(n) => {
                    // A reply is complete when the read carrying its last byte returns.
                    let at = self.now_ns();
                    self.conns[i].input.extend_from_slice(&self.scratch[..n]);
                    self.take_replies(i, at);
                    // A short read emptied the socket; data arriving later is a new
                    // (edge-triggered) event, so the EAGAIN read can be skipped.
                    if n < self.scratch.len() {
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return self.fail(i, e.to_string()),
            }
        }
    }

    fn take_replies(&mut self, i: usize, at: u64) {
        loop {
            let c = &mut self.conns[i];
            let frame = match parse_reply(&c.input[c.in_pos..]) {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => return self.fail(i, format!("protocol error: {}", e.0)),
            };
            c.in_pos += frame.len;
            let Some(due) = c.inflight.pop_front() else {
                return self.fail(i, "reply without a request".into());
            };
            self.all.completed += 1;
            self.all.errors += u64::from(frame.error);
            if self.measured(due) {
                self.measured.completed += 1;
                self.measured.errors += u64::from(frame.error);
                self.latency_ns
                    .saturating_record(at.saturating_sub(due).max(1));
            }
        }
        let c = &mut self.conns[i];
        if c.in_pos == c.input.len() {
            c.input.clear();
            c.in_pos = 0;
        } else if c.in_pos > READ_CHUNK {
            c.input.drain(..c.in_pos);
            c.in_pos = 0;
        }
    }

    /// Drops connection `i`: its unanswered requests stay uncompleted, and it counts as an error.
    fn fail(&mut self, i: usize, why: String) {
        let c = &mut self.conns[i];
        if !c.alive {
            return;
        }
        c.alive = false;
        eprintln!("loadgen: connection {}: {why}", c.id);
        let _ = self.poll.registry().deregister(&mut c.stream);
        self.all.errors += 1;
        self.measured.errors += 1;
    }

    /// Adds this pass's tallies to the shared progress counters.
    fn publish(&mut self) {
        let p = &self.progress;
        let t = std::mem::take(&mut self.all);
        if t.sent > 0 {
            p.sent.fetch_add(t.sent, Ordering::Relaxed);
        }
        if t.completed > 0 {
            p.completed.fetch_add(t.completed, Ordering::Relaxed);
        }
        if t.errors > 0 {
            p.errors.fetch_add(t.errors, Ordering::Relaxed);
        }
    }
}
