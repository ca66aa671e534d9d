//! MONITOR: the clients, on any worker, that see every command the server runs. Workers
//! format the lines (they have the arguments and the client's address) and feed them here;
//! each line reaches every monitor as a PUSH mail, so no worker waits for another.

use std::sync::Arc;

use napi::Result;
use napi_derive::napi;
use parking_lot::Mutex;
use shrike_keyspace::mailbox::Mail;

use crate::batch::keyspace;
use crate::mailbox::this_worker;

/// The monitors, as (worker, client id), in the order they started.
static MONITORS: Mutex<Vec<(u32, u64)>> = Mutex::new(Vec::new());

/// Client `client` of the calling worker becomes a monitor.
#[napi(catch_unwind)]
pub fn monitor_add(client: f64) {
    MONITORS.lock().push((this_worker(), client as u64));
}

/// Client `client` of the calling worker stops monitoring (RESET, disconnect).
#[napi(catch_unwind)]
pub fn monitor_remove(client: f64) {
    let worker = this_worker();
    MONITORS
        .lock()
        .retain(|&(w, c)| (w, c) != (worker, client as u64));
}

/// Forget the monitors of a worker that is starting again (its clients died with it).
pub(crate) fn forget_worker(worker: u32) {
    MONITORS.lock().retain(|&(w, _)| w != worker);
}

/// Send one MONITOR line (already RESP, `+...\r\n`) to every monitor.
#[napi(catch_unwind)]
pub fn monitor_feed(line: &[u8]) -> Result<()> {
    let ks = keyspace()?;
    let bytes: Arc<[u8]> = Arc::from(line);
    let targets = MONITORS.lock().clone();
    for (worker, client) in targets {
        ks.mail
            .post(worker as usize, Mail::push(client, Arc::clone(&bytes)));
    }
    Ok(())
}
