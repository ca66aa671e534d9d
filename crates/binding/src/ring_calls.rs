//! The worker's ring as JavaScript calls it: one `Ring` per worker thread, kept in a
//! thread-local and reached through plain functions. A napi class method costs several
//! hundred nanoseconds more per call than a function (unwrapping `this` and napi-rs's borrow
//! bookkeeping), and the ring is called a few times per client round trip.

use std::cell::RefCell;

use napi::bindgen_prelude::BufferSlice;
use napi::{Env, Error, Result, Status};
use napi_derive::napi;

use crate::uring::Ring;

thread_local! {
    /// This worker thread's ring; freed (its clients closed) by `ringClose` or at thread exit.
    static RING: RefCell<Option<Ring>> = const { RefCell::new(None) };
}

/// Run `f` on this thread's ring.
fn with_ring<T>(f: impl FnOnce(&mut Ring) -> Result<T>) -> Result<T> {
    RING.with(|cell| {
        let mut guard = cell
            .try_borrow_mut()
            .map_err(|_| Error::new(Status::GenericFailure, "ring already in use"))?;
        let ring = guard
            .as_mut()
            .ok_or_else(|| Error::new(Status::GenericFailure, "no ring on this thread"))?;
        f(ring)
    })
}

/// Open this thread's ring (see `Ring::new`), closing one it had.
#[napi(catch_unwind)]
pub fn ring_open(listen_fds: Vec<i32>, entries: u32, wake_fd: i32, worker: u32) -> Result<()> {
    ring_close();
    let ring = Ring::new(listen_fds, entries, wake_fd, worker)?;
    RING.with(|cell| *cell.borrow_mut() = Some(ring));
    Ok(())
}

/// Close this thread's ring, if it has one: every client is shut down.
#[napi(catch_unwind)]
pub fn ring_close() {
    // Taken out first, so that the ring is dropped with the cell free again.
    let ring = RING.with(|cell| cell.try_borrow_mut().ok().and_then(|mut r| r.take()));
    drop(ring);
}

/// `Ring::turn`: submit, wait up to `timeout_ms`, and write events (`ringEvents`; called
/// from JavaScript as `ringTurn`, hot_calls.rs).
pub(crate) fn ring_turn(timeout_ms: u32) -> Result<u32> {
    with_ring(|r| r.turn(timeout_ms))
}

/// `Ring::events_view`: where each `ringTurn` writes its event records (32-bit words).
#[napi(catch_unwind)]
pub fn ring_events(env: &Env) -> Result<BufferSlice<'_>> {
    with_ring(|r| r.events_view(env))
}

/// `Ring::mail_view`: where each `ringTurn` writes its mail bytes.
#[napi(catch_unwind)]
pub fn ring_mail(env: &Env) -> Result<BufferSlice<'_>> {
    with_ring(|r| r.mail_view(env))
}

/// `Ring::pool_view`: the read pool, which DATA events of `ringTurn` are ranges of.
#[napi(catch_unwind)]
pub fn ring_pool(env: &Env) -> Result<BufferSlice<'_>> {
    with_ring(|r| r.pool_view(env))
}

/// `Ring::execute`: run a batch of core commands for one client, replies onto its queue
/// (`ringExecute`, hot_calls.rs).
#[allow(clippy::too_many_arguments)]
pub(crate) fn ring_execute(
    slot: u32,
    gen: u32,
    buf: &[u8],
    cmds: &[u32],
    len: u32,
    db: u32,
    flags: u32,
) -> Result<u32> {
    with_ring(|r| r.execute(slot, gen, buf, cmds, len, db, flags))
}

/// `Ring::send`: queue `data[start..end]`, written in JavaScript, for a client (`ringSend`,
/// hot_calls.rs).
pub(crate) fn ring_send(slot: u32, gen: u32, data: &[u8], start: u32, end: u32) -> Result<u32> {
    with_ring(|r| r.send(slot, gen, data, start, end))
}

/// `Ring::big_arg_begin`: receive the rest of a client's last argument apart.
#[napi(catch_unwind)]
pub fn ring_big_arg_begin(slot: u32, gen: u32, len: f64, received: &[u8]) -> Result<()> {
    with_ring(|r| r.big_arg_begin(slot, gen, len, received))
}

/// `Ring::big_arg_feed`: bytes of the big argument JavaScript read first.
#[napi(catch_unwind)]
pub fn ring_big_arg_feed(slot: u32, gen: u32, bytes: &[u8]) -> Result<u32> {
    with_ring(|r| Ok(r.big_arg_feed(slot, gen, bytes)))
}

/// `Ring::big_arg_drop`: free a client's big argument.
#[napi(catch_unwind)]
pub fn ring_big_arg_drop(slot: u32, gen: u32) -> Result<()> {
    with_ring(|r| {
        r.big_arg_drop(slot, gen);
        Ok(())
    })
}

/// `Ring::big_arg_use`: `[bytes received, bytes allocated]` of a client's big argument.
#[napi(catch_unwind)]
pub fn ring_big_arg_use(slot: u32, gen: u32) -> Result<Vec<f64>> {
    with_ring(|r| Ok(r.big_arg_use(slot, gen)))
}

/// `Ring::bind_client`: name a client by its CLIENT ID, for mail.
#[napi(catch_unwind)]
pub fn ring_bind_client(slot: u32, gen: u32, client: f64) -> Result<()> {
    with_ring(|r| {
        r.bind_client(slot, gen, client);
        Ok(())
    })
}

/// `Ring::set_output_class`: a client's `client-output-buffer-limit` class.
#[napi(catch_unwind)]
pub fn ring_set_output_class(slot: u32, gen: u32, output_class: u32) -> Result<()> {
    with_ring(|r| {
        r.set_output_class(slot, gen, output_class);
        Ok(())
    })
}

/// `Ring::set_output_limits`: the limits pushes are held to.
#[napi(catch_unwind)]
pub fn ring_set_output_limits(limits: Vec<f64>) -> Result<()> {
    with_ring(|r| {
        r.set_output_limits(limits);
        Ok(())
    })
}

/// `Ring::set_keepalive`: `tcp-keepalive` seconds for clients accepted from now on.
#[napi(catch_unwind)]
pub fn ring_set_keepalive(interval: u32) -> Result<()> {
    with_ring(|r| {
        r.set_keepalive(interval);
        Ok(())
    })
}

/// `Ring::end`: close a client once its output is sent.
#[napi(catch_unwind)]
pub fn ring_end(slot: u32, gen: u32) -> Result<()> {
    with_ring(|r| r.end(slot, gen))
}

/// `Ring::destroy`: close a client now.
#[napi(catch_unwind)]
pub fn ring_destroy(slot: u32, gen: u32) -> Result<()> {
    with_ring(|r| {
        r.destroy(slot, gen);
        Ok(())
    })
}

/// `Ring::output_use`: `[omem, oll, allocated]` of a client.
#[napi(catch_unwind)]
pub fn ring_output_use(slot: u32, gen: u32) -> Result<Vec<f64>> {
    with_ring(|r| Ok(r.output_use(slot, gen)))
}

/// `Ring::bytes_sent`: bytes sent to clients since the ring started.
#[napi(catch_unwind)]
pub fn ring_bytes_sent() -> Result<f64> {
    with_ring(|r| Ok(r.bytes_sent()))
}

/// `Ring::output_bytes`: output bytes pending over every client.
#[napi(catch_unwind)]
pub fn ring_output_bytes() -> Result<f64> {
    with_ring(|r| Ok(r.output_bytes()))
}

/// `Ring::addresses`: a client's peer and local address and port.
#[napi(catch_unwind)]
pub fn ring_addresses(slot: u32, gen: u32) -> Result<Vec<String>> {
    with_ring(|r| Ok(r.addresses(slot, gen)))
}

/// `Ring::fd`: a client's socket, -1 when gone.
#[napi(catch_unwind)]
pub fn ring_fd(slot: u32, gen: u32) -> Result<i32> {
    with_ring(|r| Ok(r.fd(slot, gen)))
}

/// `Ring::release_pool`: give the read pool's pages back at the next quiet moment, and drop
/// the spare send buffers now.
#[napi(catch_unwind)]
pub fn ring_release_pool() -> Result<()> {
    with_ring(|r| {
        r.release_pool();
        Ok(())
    })
}

/// `Ring::stop_accepting`: close the listeners.
#[napi(catch_unwind)]
pub fn ring_stop_accepting() -> Result<()> {
    with_ring(|r| {
        r.stop_accepting();
        Ok(())
    })
}
