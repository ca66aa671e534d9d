//! Big last arguments, received straight into a buffer of their declared size (see the
//! ring's module doc): a connection's bytes go into its `BigArg` instead of JavaScript's
//! input until the argument and its CRLF are whole, and the command then runs with that
//! buffer as its last argument.

use std::collections::VecDeque;

use io_uring::{opcode, types};
use napi::{Error, Result, Status};

use super::{on_socket, user_data, Pending, Ring, RECV_LEN, TAG_BIGRECV, TAG_CANCEL, TAG_RECV};

/// A big last argument being received for one connection (see the module doc). It is kept
/// apart from `Conn` because it outlives it: a client that sends a whole SET and closes still
/// has it run, as Redis runs what it read before it saw the close.
pub(super) struct BigArg {
    pub(super) gen: u32,
    /// The argument's bytes so far, then its CRLF; capacity `len + 2`, allocated once.
    pub(super) buf: Vec<u8>,
    /// Declared length of the argument.
    pub(super) len: usize,
    /// A recv into `buf`'s spare capacity is in flight: `buf` must not move or be freed.
    pub(super) in_flight: bool,
    /// Dropped while a recv was in flight: freed when it completes.
    pub(super) dropped: bool,
}

impl BigArg {
    pub(super) fn whole(&self) -> bool {
        self.buf.len() >= self.len + 2
    }

    /// Take up to what is still missing from `bytes`; returns how many bytes it took.
    pub(super) fn feed(&mut self, bytes: &[u8]) -> usize {
        let take = (self.len + 2 - self.buf.len()).min(bytes.len());
        self.buf
            .extend_from_slice(bytes.get(..take).unwrap_or_default());
        take
    }
}

impl Ring {
    /// Receive the rest of a client's last argument, of `len` bytes, into a buffer of its own:
    /// `received` is what JavaScript already has of it (the request's other arguments stay
    /// there). From now on the client's bytes go to that buffer, not to JavaScript, until it
    /// holds the argument and its CRLF; a BIGARG event then says so.
    pub fn big_arg_begin(&mut self, slot: u32, gen: u32, len: f64, received: &[u8]) -> Result<()> {
        let slot = slot as usize;
        let len = len as usize;
        let want = len.saturating_add(2);
        if self.conn(slot, gen).is_none() || received.len() >= want {
            return Err(Error::new(Status::InvalidArg, "no big argument to receive"));
        }
        if matches!(self.bigs.get(slot), Some(Some(b)) if b.in_flight) {
            // The kernel still writes into the last one; it must not be replaced (freed).
            return Err(Error::new(
                Status::InvalidArg,
                "a big argument is still arriving",
            ));
        }
        let mut buf = Vec::new();
        buf.try_reserve_exact(want)
            .map_err(|_| Error::new(Status::GenericFailure, "no memory for a big argument"))?;
        buf.extend_from_slice(received);
        if self.bigs.len() <= slot {
            self.bigs.resize_with(slot + 1, || None);
        }
        if let Some(b) = self.bigs.get_mut(slot) {
            *b = Some(BigArg {
                gen,
                buf,
                len,
                in_flight: false,
                dropped: false,
            });
        }
        // The rest of the argument is best read straight into its buffer (one copy, the
        // kernel's, as Redis reads a big argument): stop the multishot read, whose end arms
        // that recv (`arm_recv`). The cancel goes in with the next submit, after JavaScript
        // has handed over what it already read (`bigArgFeed`), so the bytes keep their order.
        if let Some(c) = self.conn_mut(slot, gen) {
            c.one_shot = true;
            if c.recv_armed && !c.cancelling && !c.dying {
                c.cancelling = true;
                let sqe = opcode::AsyncCancel::new(user_data(TAG_RECV, slot, gen))
                    .build()
                    .user_data(user_data(TAG_CANCEL, slot, gen));
                self.push(sqe)?;
            }
        }
        Ok(())
    }

    /// Add bytes JavaScript got for a client after `bigArgBegin` (read in the same turn,
    /// before the ring knew). Returns how many it took; the argument is whole once JavaScript
    /// has given it all it lacked, and no BIGARG event comes for it then.
    pub fn big_arg_feed(&mut self, slot: u32, gen: u32, bytes: &[u8]) -> u32 {
        match self.big_mut(slot as usize, gen) {
            Some(b) => b.feed(bytes) as u32,
            None => 0,
        }
    }

    /// Free a client's big argument, whole or not (the client went, or its command was
    /// refused before it ran).
    pub fn big_arg_drop(&mut self, slot: u32, gen: u32) {
        let slot = slot as usize;
        if let Some(b) = self.big_mut(slot, gen) {
            if b.in_flight {
                // The kernel may still write into it: freed when its recv completes.
                b.dropped = true;
                return;
            }
            if let Some(b) = self.bigs.get_mut(slot) {
                *b = None;
            }
            crate::alloc::note_big_free();
        }
    }

    /// A client's big argument as CLIENT LIST counts it: `[bytes received, bytes allocated]`.
    pub fn big_arg_use(&mut self, slot: u32, gen: u32) -> Vec<f64> {
        match self.big_mut(slot as usize, gen) {
            Some(b) => vec![b.buf.len() as f64, b.buf.capacity() as f64],
            None => vec![0.0, 0.0],
        }
    }

    pub(super) fn big_mut(&mut self, slot: usize, gen: u32) -> Option<&mut BigArg> {
        self.bigs
            .get_mut(slot)
            .and_then(|b| b.as_mut())
            .filter(|b| b.gen == gen)
    }

    /// The big argument of (slot, gen), if whole, without its CRLF (the keyspace keeps the
    /// bytes as they are; `truncate` frees nothing and copies nothing).
    pub(super) fn take_big(&mut self, slot: usize, gen: u32) -> Option<Vec<u8>> {
        if !self.big_mut(slot, gen)?.whole() {
            return None;
        }
        let mut b = self.bigs.get_mut(slot)?.take()?;
        b.buf.truncate(b.len);
        Some(b.buf)
    }

    /// Arm a plain recv straight into `slot`'s big argument, when it has one still missing
    /// bytes that the reads already queued for JavaScript will not complete; those queued
    /// bytes come first, so they are moved into the buffer before the recv starts. Returns
    /// whether it armed one (else the multishot read goes on, and `deliver` diverts).
    pub(super) fn arm_big_recv(&mut self, slot: usize) -> Result<bool> {
        let Some(Some(c)) = self.conns.get(slot) else {
            return Ok(false);
        };
        let gen = c.gen;
        let Some(b) = self.bigs.get(slot).and_then(|b| b.as_ref()) else {
            return Ok(false);
        };
        if b.gen != gen || b.whole() || b.in_flight || b.dropped {
            return Ok(false);
        }
        let missing = b.len + 2 - b.buf.len();
        let queued: usize = self
            .pending
            .iter()
            .map(|p| match *p {
                Pending::Data(s, g, _, _, len) if s == slot && g == gen => len as usize,
                _ => 0,
            })
            .sum();
        if queued >= missing {
            return Ok(false);
        }
        // Move this client's queued reads into the buffer, in order, and free their buffers.
        let mut kept = VecDeque::with_capacity(self.pending.len());
        let mut freed: Vec<u16> = Vec::new();
        for p in std::mem::take(&mut self.pending) {
            match p {
                Pending::Data(s, g, bid, off, len) if s == slot && g == gen => {
                    let from = usize::from(bid) * RECV_LEN + off as usize;
                    let bytes = self.pool.get(from..from + len as usize).unwrap_or_default();
                    if let Some(Some(b)) = self.bigs.get_mut(slot) {
                        b.feed(bytes);
                    }
                    freed.push(bid);
                }
                other => kept.push_back(other),
            }
        }
        self.pending = kept;
        for bid in freed {
            self.recycle(bid);
        }
        let (Some(Some(b)), Some(Some(c))) = (self.bigs.get_mut(slot), self.conns.get_mut(slot))
        else {
            return Ok(false);
        };
        let left = b.len + 2 - b.buf.len();
        b.in_flight = true;
        let ptr = b.buf.spare_capacity_mut().as_mut_ptr().cast::<u8>();
        c.recv_armed = true;
        // SAFETY (for the SQE): `ptr` points at `left` bytes of the buffer's spare capacity;
        // the buffer is never grown, moved or freed while `in_flight` (big_arg_drop defers).
        let sqe = on_socket!(c, slot, |t| opcode::Recv::new(t, ptr, left as u32).build())
            .user_data(user_data(TAG_BIGRECV, slot, gen));
        self.push(sqe)?;
        Ok(true)
    }

    /// A recv into a big argument's buffer completed.
    pub(super) fn on_big_recv(&mut self, slot: usize, gen: u32, res: i32) -> Result<()> {
        if let Some(Some(b)) = self.bigs.get_mut(slot) {
            if b.gen == gen && b.in_flight {
                b.in_flight = false;
                if b.dropped {
                    if let Some(e) = self.bigs.get_mut(slot) {
                        *e = None;
                    }
                    crate::alloc::note_big_free();
                } else if res > 0 {
                    let n = (res as usize).min(b.buf.capacity() - b.buf.len());
                    // SAFETY: the kernel wrote `res` bytes into the spare capacity the recv
                    // was given, which was at most capacity - len bytes long.
                    unsafe { b.buf.set_len(b.buf.len() + n) };
                    if b.whole() {
                        self.pending.push_back(Pending::BigDone(slot, gen));
                    }
                }
            }
        }
        let Some(c) = self.conn_mut(slot, gen) else {
            return Ok(());
        };
        c.recv_armed = false;
        if c.dying {
            self.maybe_free(slot);
        } else if res > 0 || res == -libc::EINTR || res == -libc::EAGAIN {
            // Still missing bytes: another recv into the buffer; whole: the multishot again.
            self.arm_recv(slot)?;
        } else {
            self.kill(slot); // EOF or a reset in the middle of the argument
        }
        Ok(())
    }
}
