//! The clock that times core commands (INFO commandstats `usec`). Where the CPU's time-stamp
//! counter ticks at a constant rate it is read directly, a few cycles, instead of through
//! clock_gettime: one read per command was 4% of an RPUSH -P 16 profile. Elsewhere the
//! clock is `Instant`, in nanoseconds.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A reading of the command clock.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tick(u64);

/// How readings turn into microseconds: `us = ticks * mult >> 32`.
struct Scale {
    tsc: bool,
    mult: u64,
    origin: Instant,
}

static SCALE: OnceLock<Scale> = OnceLock::new();

/// The scale of a clock in nanoseconds (the fallback).
const NS_MULT: u64 = (1 << 32) / 1000;

#[cfg(target_arch = "x86_64")]
fn invariant_tsc() -> bool {
    // Leaf 0x80000007 is read only when the highest extended leaf says it exists. EDX bit 8
    // is "invariant TSC" (Linux's nonstop_tsc): the counter runs at one rate in every power
    // state.
    use std::arch::x86_64::__cpuid;
    __cpuid(0x8000_0000).eax >= 0x8000_0007 && __cpuid(0x8000_0007).edx & (1 << 8) != 0
}

#[cfg(not(target_arch = "x86_64"))]
fn invariant_tsc() -> bool {
    false
}

/// Whether Linux keeps time by the TSC itself: it drops the TSC as its clocksource when it
/// finds it unstable or unsynchronised between CPUs, and then so does this clock.
fn kernel_trusts_tsc() -> bool {
    std::fs::read_to_string("/sys/devices/system/clocksource/clocksource0/current_clocksource")
        .is_ok_and(|s| s.trim() == "tsc")
}

#[cfg(target_arch = "x86_64")]
#[inline]
fn tsc() -> u64 {
    // SAFETY: RDTSC is available on every x86_64 CPU and has no side effects.
    unsafe { std::arch::x86_64::_rdtsc() }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn tsc() -> u64 {
    0
}

fn scale() -> &'static Scale {
    SCALE.get_or_init(|| {
        let origin = Instant::now();
        if !(invariant_tsc() && kernel_trusts_tsc()) {
            // Nanoseconds: a thousand per microsecond.
            return Scale {
                tsc: false,
                mult: NS_MULT,
                origin,
            };
        }
        // The counter's rate, from both clocks read around a short sleep (once per process).
        let (ns0, c0) = paired_reading(origin);
        std::thread::sleep(Duration::from_millis(10));
        let (ns1, c1) = paired_reading(origin);
        let per_us = (c1.wrapping_sub(c0) as f64 * 1000.0 / (ns1 - ns0).max(1) as f64).max(1.0);
        Scale {
            tsc: true,
            mult: ((1u64 << 32) as f64 / per_us) as u64,
            origin,
        }
    })
}

/// The counter and `Instant` (as nanoseconds since `origin`) read at the same moment: the
/// counter between two `Instant` readings, the closest pair of a few tries, so that a
/// preemption between the readings (tens of microseconds on a busy machine, 1% of the
/// calibration) cannot skew the rate.
fn paired_reading(origin: Instant) -> (u64, u64) {
    let mut best = (u64::MAX, 0, 0);
    for _ in 0..16 {
        let a = origin.elapsed().as_nanos() as u64;
        let c = tsc();
        let b = origin.elapsed().as_nanos() as u64;
        if b - a < best.0 {
            best = (b - a, a + (b - a) / 2, c);
        }
    }
    (best.1, best.2)
}

/// Measure the counter's rate now, so the first command does not (the addon's load calls it).
pub(crate) fn calibrate() {
    scale();
}

/// The command clock now.
#[inline]
pub(crate) fn now() -> Tick {
    let s = scale();
    if s.tsc {
        Tick(tsc())
    } else {
        Tick(s.origin.elapsed().as_nanos() as u64)
    }
}

/// Microseconds from `start` to `end` (0 if the readings went backwards, as two CPUs'
/// counters may by a few ticks).
#[inline]
pub(crate) fn micros_between(start: Tick, end: Tick) -> u64 {
    to_micros(end.0.saturating_sub(start.0), scale().mult)
}

#[inline]
fn to_micros(ticks: u64, mult: u64) -> u64 {
    ((u128::from(ticks) * u128::from(mult)) >> 32) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_a_sleep_in_microseconds() {
        calibrate();
        for ms in [0u64, 3, 20] {
            let (t0, i0) = (now(), Instant::now());
            std::thread::sleep(Duration::from_millis(ms));
            let (t1, real) = (now(), i0.elapsed().as_micros() as u64);
            let got = micros_between(t0, t1);
            // Both clocks read around the same sleep: within 5% and 50 µs of each other.
            let slack = real / 20 + 50;
            assert!(
                got + slack >= real && got <= real + slack,
                "{ms} ms sleep: command clock {got} µs, Instant {real} µs"
            );
        }
        assert_eq!(micros_between(Tick(10), Tick(5)), 0, "backwards is zero");
    }

    #[test]
    fn the_nanosecond_fallback_scale_gives_microseconds() {
        assert_eq!(to_micros(0, NS_MULT), 0);
        assert_eq!(to_micros(999, NS_MULT), 0);
        assert_eq!(to_micros(1_000_000, NS_MULT), 999, "truncated, within 1 µs");
        let hour = to_micros(3_600_000_000_000, NS_MULT);
        assert!(
            (3_599_999_000..=3_600_000_000).contains(&hour),
            "an hour: {hour} µs"
        );
    }
}
