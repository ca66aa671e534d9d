//! Settings of the shared keyspace that CONFIG SET and the config file change: the encoding
//! limits, `notify-keyspace-events` and the maxmemory policy's LRU/LFU choice. Every worker
//! applies each change; they are idempotent stores into the one keyspace.

use napi::Result;
use napi_derive::napi;
use shrike_keyspace::notify;

use crate::batch::keyspace;

/// Apply the config parameter `name` = `value` (already validated by the config code) to the
/// keyspace; false when the keyspace has no use for that parameter.
#[napi(catch_unwind)]
pub fn configure_keyspace(name: String, value: String) -> Result<bool> {
    let ks = keyspace()?;
    Ok(match name.as_str() {
        "notify-keyspace-events" => match notify::flags_from_letters(value.as_bytes()) {
            Some(flags) => {
                ks.set_notify_flags(flags);
                true
            }
            None => false,
        },
        "maxmemory-policy" => {
            ks.set_lfu_policy(value.contains("lfu"));
            true
        }
        "tracking-table-max-keys" => match value.parse::<usize>() {
            Ok(n) => {
                ks.tracking.set_max_keys(n);
                true
            }
            Err(_) => false,
        },
        _ => match value.parse::<i64>() {
            Ok(v) => ks.set_encoding_limit(&name, v),
            Err(_) => false,
        },
    })
}

/// Changes to the keyspace since the last save (INFO `rdb_changes_since_last_save`).
#[napi(catch_unwind)]
pub fn keyspace_changes() -> Result<f64> {
    Ok(keyspace()?.changes() as f64)
}
