//! The open-loop schedule: when each request is due, independent of when replies come back.
//!
//! Request `i` of the run is due at `i / rate` seconds after the start. Connection `c` of `C`
//! sends requests `c, c + C, c + 2C, ...`, so each connection runs at `rate / C` and the
//! connections interleave evenly. Times are integer nanoseconds computed from the index,
//! never accumulated, so the schedule does not drift over long runs.

const NS_PER_S: u128 = 1_000_000_000;

/// The due times of one connection's requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    conn: u64,
    conns: u64,
    rate: u64,
}

impl Schedule {
    /// Connection `conn` of `conns` sharing a run of `rate` requests per second.
    pub fn new(conn: usize, conns: usize, rate: u64) -> Schedule {
        assert!(conn < conns && rate > 0);
        Schedule {
            conn: conn as u64,
            conns: conns as u64,
            rate,
        }
    }

    /// When this connection's `k`-th request is due, in ns after the start of the run.
    pub fn due_ns(&self, k: u64) -> u64 {
        global_due_ns(k * self.conns + self.conn, self.rate)
    }
}

/// When request `i` of the whole run is due, in ns after its start.
pub fn global_due_ns(i: u64, rate: u64) -> u64 {
    (u128::from(i) * NS_PER_S / u128::from(rate)) as u64
}

/// Seconds (possibly fractional) as nanoseconds.
pub fn secs_to_ns(s: f64) -> u64 {
    (s * 1e9).round() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_interleave_into_the_global_schedule() {
        let (rate, conns) = (50_000, 7);
        let scheds: Vec<Schedule> = (0..conns).map(|c| Schedule::new(c, conns, rate)).collect();
        for i in 0..10_000u64 {
            let c = (i % conns as u64) as usize;
            let k = i / conns as u64;
            assert_eq!(scheds[c].due_ns(k), i * 1_000_000_000 / rate);
        }
    }

    #[test]
    fn each_connection_runs_at_its_share_of_the_rate() {
        let s = Schedule::new(3, 50, 50_000);
        // 1000 rps per connection: one request per ms, offset by 3/50 ms.
        assert_eq!(s.due_ns(0), 60_000);
        assert_eq!(s.due_ns(1), 1_060_000);
        assert_eq!(s.due_ns(1000) - s.due_ns(0), 1_000_000_000);
    }

    #[test]
    fn a_window_holds_rate_times_seconds_requests() {
        // Requests due in [warmup, warmup + duration): exactly rate * duration of them, even
        // when the rate does not divide a second evenly.
        for rate in [1, 3, 7, 999, 25_000, 123_457] {
            let (w, d) = (secs_to_ns(1.0), secs_to_ns(2.0));
            let n = (0..rate * 4)
                .filter(|&i| (w..w + d).contains(&global_due_ns(i, rate)))
                .count() as u64;
            assert_eq!(n, rate * 2, "rate {rate}");
        }
    }

    #[test]
    fn due_times_never_decrease() {
        let s = Schedule::new(0, 1, 7);
        let mut last = 0;
        for k in 0..1000 {
            let t = s.due_ns(k);
            assert!(t >= last);
            last = t;
        }
        // Far into a long run the index math must not overflow.
        assert_eq!(
            global_due_ns(10_000_000_000, 1_000_000),
            10_000 * 1_000_000_000
        );
    }
}
