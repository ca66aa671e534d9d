//! A connection's output: replies and pushes join its `queued` buffer, which goes out one
//! send at a time (swapped into `sending` once the last send drained, big drained buffers
//! kept as the ring's spares); big values spliced in by reference (`out_queue.rs`) make
//! that send a sendmsg of iovecs. A client whose output passes the high-water mark is held
//! back until it drains (see the ring's module doc); one blocked with nothing pending lends
//! its socket to the thread that ends its block (`direct_reply.rs`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use io_uring::{opcode, types};
use napi::Result;

use super::{
    on_socket, user_data, Pending, Ring, OUTPUT_HIGH_WATER, OUTPUT_LOW_WATER, SEND_BUF_KEEP,
    TAG_SEND,
};
use crate::batch::{keyspace, RESULT_OVER};
use crate::direct_reply::DirectSink;

/// `client-output-buffer-limit` as (hard, soft, soft seconds) per class, in Redis's class
/// order (normal, replica, pubsub); 0 turns a bound off.
#[derive(Default, Clone, Copy)]
pub(super) struct OutputLimits(pub(super) [(usize, usize, u64); 3]);

impl OutputLimits {
    /// Whether `pending` bytes are over the limits of `class` (the soft one for long enough,
    /// tracked in `since`), as Redis's checkClientOutputBufferLimits.
    pub(super) fn over(&self, class: usize, pending: usize, since: &mut Option<Instant>) -> bool {
        let Some(&(hard, soft, soft_secs)) = self.0.get(class) else {
            return false;
        };
        if hard > 0 && pending >= hard {
            return true;
        }
        if soft == 0 || pending < soft {
            *since = None;
            return false;
        }
        let start = *since.get_or_insert_with(Instant::now);
        start.elapsed() >= Duration::from_secs(soft_secs)
    }
}

impl Ring {
    /// After output was queued for `slot`: have it sent at the next submit, and hold the
    /// client back when its output passed the high-water mark (`RESULT_OVER`).
    pub(super) fn after_output(&mut self, slot: usize) -> Result<u32> {
        let Some(Some(c)) = self.conns.get_mut(slot) else {
            return Ok(0);
        };
        if !c.send_wanted {
            c.send_wanted = true;
            self.to_send.push(slot);
        }
        if c.backlog() <= OUTPUT_HIGH_WATER {
            return Ok(0);
        }
        c.watch_drain = true;
        self.pause_recv(slot)?;
        Ok(RESULT_OVER)
    }

    /// A client blocked with its reply due and nothing queued or in flight: lend its socket
    /// to the thread that ends the block (`direct_reply.rs`).
    pub(super) fn lend(&mut self, slot: usize) {
        let worker = self.worker as usize;
        let Some(Some(c)) = self.conns.get_mut(slot) else {
            return;
        };
        if c.lent || !c.reply_direct || c.dying || c.client == 0 || !c.idle() {
            return;
        }
        let sink = match &c.direct {
            Some(sink) => sink.clone(),
            None => {
                let Ok(ks) = keyspace() else {
                    return;
                };
                let sink = Arc::new(DirectSink::new(c.fd));
                ks.mail.set_direct(c.client, worker, Some(sink.clone()));
                c.direct = Some(sink.clone());
                sink
            }
        };
        sink.arm();
        c.lent = true;
    }

    /// Before anything is queued for (slot, gen): its socket back, if lent (`Conn::take_back`).
    pub(super) fn take_back(&mut self, slot: usize, gen: u32) {
        if let Some(c) = self.conn_mut(slot, gen) {
            let sent = c.take_back();
            self.bytes_sent += sent as u64;
        }
    }

    /// A client whose last batch left a big output starts its next one with that much room
    /// (and a little more: a reply reserves a few bytes beyond what it writes), from the
    /// spares if one fits: no regrowth, copying as it doubles, and no fresh pages.
    pub(super) fn presize_queue(&mut self, slot: usize, gen: u32) {
        let hint = match self.conn_mut(slot, gen) {
            Some(c)
                if !c.dying
                    && c.queued.is_empty()
                    && c.out_hint > c.queued.bytes.capacity().max(SEND_BUF_KEEP) =>
            {
                c.out_hint + 4096
            }
            _ => return,
        };
        let room = self
            .spares
            .take(hint)
            .unwrap_or_else(|| Vec::with_capacity(hint));
        if let Some(c) = self.conn_mut(slot, gen) {
            c.queued.bytes = room;
        }
    }

    /// Start the sends `after_output` asked for.
    pub(super) fn start_wanted_sends(&mut self) -> Result<()> {
        let mut slots = std::mem::take(&mut self.to_send);
        for &slot in &slots {
            if let Some(Some(c)) = self.conns.get_mut(slot) {
                c.send_wanted = false;
            }
        }
        let started = slots.iter().try_for_each(|&slot| self.start_send(slot));
        slots.clear();
        self.to_send = slots;
        started
    }

    /// Start sending what is queued, if no send is in flight.
    pub(super) fn start_send(&mut self, slot: usize) -> Result<()> {
        let Some(Some(c)) = self.conns.get_mut(slot) else {
            return Ok(());
        };
        if c.send_inflight || c.dying {
            return Ok(());
        }
        if c.sent >= c.sending.len() {
            if c.queued.is_empty() {
                if c.close_when_drained {
                    self.kill(slot);
                }
                return Ok(());
            }
            std::mem::swap(&mut c.sending, &mut c.queued);
            c.queued.clear();
            c.sent = 0;
            if c.queued.bytes.capacity() > SEND_BUF_KEEP {
                let big = std::mem::take(&mut c.queued.bytes);
                self.spares.give(big);
            }
        }
        let Some(Some(c)) = self.conns.get_mut(slot) else {
            return Ok(());
        };
        c.send_inflight = true;
        let ud = user_data(TAG_SEND, slot, c.gen);
        if !c.sending.has_refs() {
            let rest = c.sending.bytes.get(c.sent..).unwrap_or_default();
            let sqe = on_socket!(c, slot, |t| opcode::Send::new(
                t,
                rest.as_ptr(),
                rest.len() as u32
            )
            .flags(libc::MSG_NOSIGNAL)
            .build())
            .user_data(ud);
            return self.push(sqe);
        }
        c.sending.iovecs(c.sent, &mut c.iov);
        let msg = c.msg.get_or_insert_with(|| {
            // SAFETY: msghdr is plain data; all zeroes is an empty message.
            Box::new(unsafe { std::mem::zeroed::<libc::msghdr>() })
        });
        msg.msg_iov = c.iov.as_mut_ptr();
        msg.msg_iovlen = c.iov.len();
        let msg: *const libc::msghdr = &**msg;
        // The header, the iovecs and what they point to stay put until the send completes:
        // `sending` is not touched while `send_inflight`, nor `iov` and `msg` (boxed, so a
        // move of the connection does not move it).
        let sqe = on_socket!(c, slot, |t| opcode::SendMsg::new(t, msg)
            .flags(libc::MSG_NOSIGNAL as u32)
            .build())
        .user_data(ud);
        self.push(sqe)
    }

    pub(super) fn on_send(&mut self, slot: usize, gen: u32, res: i32) -> Result<()> {
        if res > 0 {
            self.bytes_sent += res as u64;
        }
        let Some(c) = self.conn_mut(slot, gen) else {
            return Ok(());
        };
        c.send_inflight = false;
        if c.dying {
            self.maybe_free(slot);
            return Ok(());
        }
        if res < 0 {
            if res == -libc::EINTR || res == -libc::EAGAIN {
                return self.start_send(slot);
            }
            self.kill(slot);
            return Ok(());
        }
        c.sent += res as usize;
        if c.sent >= c.sending.len() {
            c.sending.clear();
            c.sent = 0;
            if c.sending.bytes.capacity() > SEND_BUF_KEEP {
                let big = std::mem::take(&mut c.sending.bytes);
                self.spares.give(big);
            }
        }
        let Some(c) = self.conn_mut(slot, gen) else {
            return Ok(());
        };
        if c.watch_drain && c.backlog() <= OUTPUT_LOW_WATER {
            c.watch_drain = false;
            self.pending.push_back(Pending::Drained(slot, gen));
        }
        self.start_send(slot)?;
        self.lend(slot);
        // A client paused for a big backlog reads again once it drained.
        self.arm_recv(slot)
    }
}
