//! The server's side of the pub/sub registry (`shrike_keyspace::pubsub`): (P|S)SUBSCRIBE and
//! their UNSUBSCRIBEs run in TypeScript, which owns the replies and the connection's counts;
//! these calls only change who listens. PUBLISH runs in the core (batch.rs).

use napi::bindgen_prelude::{Buffer, Uint8Array};
use napi::{Error, Result, Status};
use napi_derive::napi;
use shrike_keyspace::pubsub::Kind;

use crate::batch::keyspace;

fn kind(n: u32) -> Result<Kind> {
    Kind::from_u32(n).ok_or_else(|| Error::new(Status::InvalidArg, "bad subscription kind"))
}

/// Subscribe client `client` of worker `worker` to each name (kind 0 channel, 1 pattern,
/// 2 shard channel); per name, 1 when it is new for the client, 0 when already subscribed.
#[napi(catch_unwind)]
pub fn pubsub_subscribe(
    client: f64,
    worker: u32,
    resp3: bool,
    kind_id: u32,
    names: Vec<Buffer>,
) -> Result<Uint8Array> {
    let (ps, kind) = (&keyspace()?.pubsub, kind(kind_id)?);
    let added: Vec<u8> = names
        .iter()
        .map(|n| u8::from(ps.subscribe(client as u64, worker, resp3, kind, n)))
        .collect();
    Ok(added.into())
}

/// Unsubscribe client `client` from each name; per name, 1 when it was subscribed.
#[napi(catch_unwind)]
pub fn pubsub_unsubscribe(client: f64, kind_id: u32, names: Vec<Buffer>) -> Result<Uint8Array> {
    let (ps, kind) = (&keyspace()?.pubsub, kind(kind_id)?);
    let removed: Vec<u8> = names
        .iter()
        .map(|n| u8::from(ps.unsubscribe(client as u64, kind, n)))
        .collect();
    Ok(removed.into())
}

/// Unsubscribe client `client` from every name of the kind; returns them in subscription order.
#[napi(catch_unwind)]
pub fn pubsub_unsubscribe_all(client: f64, kind_id: u32) -> Result<Vec<Buffer>> {
    let names = keyspace()?
        .pubsub
        .unsubscribe_all(client as u64, kind(kind_id)?);
    Ok(names
        .into_iter()
        .map(|n| Buffer::from(n.into_vec()))
        .collect())
}

/// Forget every subscription of client `client` (disconnect, RESET).
#[napi(catch_unwind)]
pub fn pubsub_drop_client(client: f64) -> Result<()> {
    keyspace()?.pubsub.drop_client(client as u64);
    Ok(())
}

/// Forget the subscriptions of every client of worker `worker` (it is starting afresh).
#[napi(catch_unwind)]
pub fn pubsub_drop_worker(worker: u32) -> Result<()> {
    keyspace()?.pubsub.drop_worker(worker);
    Ok(())
}

/// Client `client` now speaks RESP3 (`resp3`) or RESP2: its messages follow.
#[napi(catch_unwind)]
pub fn pubsub_set_resp3(client: f64, resp3: bool) -> Result<()> {
    keyspace()?.pubsub.set_resp3(client as u64, resp3);
    Ok(())
}

/// INFO stats: [pubsub_channels, pubsub_patterns, pubsubshard_channels].
#[napi(catch_unwind)]
pub fn pubsub_counts() -> Result<Vec<u32>> {
    Ok(keyspace()?
        .pubsub
        .counts()
        .iter()
        .map(|&n| n as u32)
        .collect())
}
