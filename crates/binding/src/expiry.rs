//! Server-wide background work and counters: the active expiry cycle and what INFO reads.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Once;
use std::time::Duration;

use napi::Result;
use napi_derive::napi;
use shrike_keyspace::mailbox::Outbox;
use shrike_keyspace::Effects;

use crate::batch::{keyspace, now_ms};

static ACTIVE_EXPIRY: Once = Once::new();

/// While CLIENT PAUSE is in force the active cycle rests (Redis's PAUSE_ACTION_EXPIRE): the
/// end of the pause in ms since the epoch, 0 when none. Any worker writes it (PAUSE, UNPAUSE);
/// the expiry thread reads it each tick.
static EXPIRY_PAUSED_UNTIL_MS: AtomicI64 = AtomicI64::new(0);

/// Keys the active cycle may remove per 100 ms tick before yielding the segment locks.
const EXPIRE_KEYS_PER_TICK: usize = 2000;

/// Start the active expiry thread (once per process; later calls do nothing). Like Redis's
/// `activeExpireCycle` at hz 10, it runs every 100 ms off the workers' threads.
#[napi(catch_unwind)]
pub fn start_active_expiry() -> Result<()> {
    let ks = keyspace()?;
    ACTIVE_EXPIRY.call_once(|| {
        let spawned = std::thread::Builder::new()
            .name("shrike-expire".into())
            .spawn(move || {
                let mut fx = Effects::default();
                let mut out = Outbox::default();
                // Tracking clients hear of keys a step removed, as from any write, and its
                // events (`expired`, `hexpired`, `del`) are published, before the next step.
                let mut deliver = |fx: &mut Effects| {
                    ks.tracking.deliver(&mut fx.tracking, 0, None, &mut out);
                    ks.publish_events(fx, &mut out);
                    ks.mail.deliver(&mut out);
                    fx.clear();
                };
                loop {
                    std::thread::sleep(Duration::from_millis(100));
                    if now_ms() < EXPIRY_PAUSED_UNTIL_MS.load(Ordering::Relaxed) {
                        continue;
                    }
                    // Keep going while a tick fills its budget: a burst of expiries drains fast.
                    while ks.active_expire_cycle(now_ms(), EXPIRE_KEYS_PER_TICK, &mut fx)
                        >= EXPIRE_KEYS_PER_TICK
                    {
                        deliver(&mut fx);
                    }
                    deliver(&mut fx);
                    // Then hash fields past their TTL (Redis 7.4), with the same budget.
                    while ks.active_expire_fields(now_ms(), EXPIRE_KEYS_PER_TICK, &mut fx)
                        >= EXPIRE_KEYS_PER_TICK
                    {
                        deliver(&mut fx);
                    }
                    deliver(&mut fx);
                }
            });
        drop(spawned);
    });
    Ok(())
}

/// CLIENT PAUSE / UNPAUSE: the active expiry cycle rests until `until_ms` (ms since the
/// epoch; 0 or a past time: it runs again from its next tick).
#[napi]
pub fn pause_active_expiry(until_ms: f64) {
    EXPIRY_PAUSED_UNTIL_MS.store(until_ms as i64, Ordering::Relaxed);
}

/// One database line of INFO keyspace.
#[napi(object)]
pub struct DbKeys {
    pub db: u32,
    pub keys: f64,
    pub expires: f64,
    pub avg_ttl: f64,
}

/// Per-database key counts for INFO keyspace (non-empty databases only).
#[napi(catch_unwind)]
pub fn keyspace_info() -> Result<Vec<DbKeys>> {
    let ks = keyspace()?;
    Ok(ks
        .keyspace_info(now_ms())
        .into_iter()
        .map(|d| DbKeys {
            db: d.db,
            keys: d.keys as f64,
            expires: d.expires as f64,
            avg_ttl: d.avg_ttl_ms as f64,
        })
        .collect())
}

/// Keyspace counters for INFO stats.
#[napi(object)]
pub struct KeyspaceStats {
    pub expired_keys: f64,
    pub keyspace_hits: f64,
    pub keyspace_misses: f64,
}

/// Current keyspace counters.
#[napi(catch_unwind)]
pub fn keyspace_stats() -> Result<KeyspaceStats> {
    let s = keyspace()?.stats();
    Ok(KeyspaceStats {
        expired_keys: s.expired_keys as f64,
        keyspace_hits: s.keyspace_hits as f64,
        keyspace_misses: s.keyspace_misses as f64,
    })
}

/// CONFIG RESETSTAT: zero the keyspace counters.
#[napi(catch_unwind)]
pub fn reset_keyspace_stats() -> Result<()> {
    keyspace()?.reset_stats();
    Ok(())
}

/// Bytes the Rust allocator holds right now (INFO used_memory).
#[napi(catch_unwind)]
pub fn used_memory() -> f64 {
    crate::alloc::live_bytes() as f64
}
