//! Client-side caching as the server drives it (`shrike_keyspace::tracking`): registering
//! how a client tracks, what CLIENT TRACKINGINFO and INFO read back, and the broken-redirect
//! report of the worker that found a redirect client gone.

use napi::bindgen_prelude::Buffer;
use napi::Result;
use napi_derive::napi;
use shrike_keyspace::mailbox::Outbox;
use shrike_keyspace::tracking::Mode;

use crate::batch::keyspace;

/// CLIENT TRACKING on, options already checked: `client` (of worker `worker`, RESP3 when
/// `resp3`) tracks from now on; `redirect` is the REDIRECT client (0 for none) and
/// `redirectWorker` its worker; BCAST `prefixes` add to those it had.
#[napi(catch_unwind)]
#[allow(clippy::too_many_arguments)]
pub fn tracking_enable(
    client: f64,
    worker: u32,
    resp3: bool,
    redirect: f64,
    redirect_worker: u32,
    bcast: bool,
    noloop: bool,
    prefixes: Vec<Buffer>,
) -> Result<()> {
    let prefixes: Vec<&[u8]> = prefixes.iter().map(|b| b.as_ref()).collect();
    let mode = Mode {
        worker,
        resp3,
        redirect: redirect as u64,
        redirect_worker,
        bcast,
        noloop,
    };
    keyspace()?.tracking.enable(client as u64, mode, &prefixes);
    Ok(())
}

/// CLIENT TRACKING off, or a tracking client closed.
#[napi(catch_unwind)]
pub fn tracking_disable(client: f64) -> Result<()> {
    keyspace()?.tracking.disable(client as u64);
    Ok(())
}

/// A tracking client switched protocol (HELLO).
#[napi(catch_unwind)]
pub fn tracking_set_resp3(client: f64, resp3: bool) -> Result<()> {
    keyspace()?.tracking.set_resp3(client as u64, resp3);
    Ok(())
}

/// The redirect client of tracking client `client` is gone (its worker found no such
/// client for a message): flag it and tell it, as Redis's `sendTrackingMessage` does.
#[napi(catch_unwind)]
pub fn tracking_redirect_broken(client: f64) -> Result<()> {
    let ks = keyspace()?;
    let mut out = Outbox::default();
    ks.tracking.redirect_broken(client as u64, &mut out);
    ks.mail.deliver(&mut out);
    Ok(())
}

/// What the core knows of a client's tracking (CLIENT TRACKINGINFO, CLIENT LIST).
#[napi(object)]
pub struct TrackingState {
    /// A message could not reach the redirect client (`broken_redirect`, flag R).
    pub broken: bool,
    /// BCAST prefixes, in lexicographic order.
    pub prefixes: Vec<Buffer>,
}

/// How `client` tracks, or null when it does not.
#[napi(catch_unwind)]
pub fn tracking_state(client: f64) -> Result<Option<TrackingState>> {
    Ok(keyspace()?
        .tracking
        .info(client as u64)
        .map(|t| TrackingState {
            broken: t.broken,
            prefixes: t.prefixes.into_iter().map(Buffer::from).collect(),
        }))
}

/// INFO's tracking numbers.
#[napi(object)]
pub struct TrackingStats {
    /// `tracking_clients`
    pub clients: f64,
    /// `tracking_total_keys`
    pub keys: f64,
    /// `tracking_total_items`
    pub items: f64,
    /// `tracking_total_prefixes`
    pub prefixes: f64,
}

/// INFO's tracking numbers, over every worker.
#[napi(catch_unwind)]
pub fn tracking_stats() -> Result<TrackingStats> {
    let s = keyspace()?.tracking.stats();
    Ok(TrackingStats {
        clients: s.clients as f64,
        keys: s.keys as f64,
        items: s.items as f64,
        prefixes: s.prefixes as f64,
    })
}
