//! Mail the ring takes itself (see the ring's module doc): pushes go straight onto their
//! clients' send queues, under each client's `client-output-buffer-limit`, and so does a
//! REPLY that ends a block the client will read; the rest waits for JavaScript.

use std::sync::Arc;

use napi::Result;
use shrike_keyspace::mailbox::kind;

use super::{OutQueue, Pending, Ring};
use crate::batch::keyspace;

impl Ring {
    /// The eventfd fired (`woken`) or this worker posted to itself: handle the worker's
    /// mail. Pushes go onto their clients' send queues here; other mail goes to JavaScript
    /// in order. An eventfd wake with no mail, or a YIELD, gives JavaScript's event loop a
    /// turn (the main thread has a message for it).
    pub(super) fn take_mail(&mut self, woken: bool) -> Result<()> {
        let mut mail = std::mem::take(&mut self.mail);
        keyspace()?.mail.take(self.worker as usize, &mut mail);
        let mut yield_js = woken && mail.is_empty();
        let mut sent_to: Vec<usize> = Vec::new();
        for m in mail.drain(..) {
            match m.kind {
                kind::PUSH => {
                    if let Some(slot) = self.push_to(m.client, &m.bytes) {
                        sent_to.push(slot);
                    }
                }
                kind::YIELD => yield_js = true,
                kind::REPLY if self.take_reply_direct(m.client) => {
                    if let Some(slot) = self.push_to(m.client, &m.bytes) {
                        sent_to.push(slot);
                    }
                    self.replied = true;
                    // JavaScript ends the block and runs what the client sent after it; the
                    // reply itself is already queued.
                    self.pending.push_back(Pending::Mail(
                        kind::REPLY,
                        m.client,
                        Arc::from(&[][..]),
                    ));
                }
                k => self.pending.push_back(Pending::Mail(k, m.client, m.bytes)),
            }
        }
        self.mail = mail;
        for &slot in &sent_to {
            if let Some(Some(c)) = self.conns.get_mut(slot) {
                c.mailed = false;
            }
        }
        for slot in sent_to {
            // Held back at the high-water mark like any output; JavaScript needs no word of
            // it (its DRAINED finds nothing held and is ignored).
            self.after_output(slot)?;
        }
        if yield_js {
            self.pending.push_back(Pending::Wake);
        }
        Ok(())
    }

    /// Whether the REPLY mail for `client` goes straight onto its send queue (and no longer
    /// after this one: the next block decides again).
    pub(super) fn take_reply_direct(&mut self, client: u64) -> bool {
        let Some(&slot) = self.by_client.get(&client) else {
            return false;
        };
        match self.conns.get_mut(slot) {
            Some(Some(c)) if c.client == client => std::mem::take(&mut c.reply_direct),
            _ => false,
        }
    }

    /// Queue pushed bytes for `client`; its slot the first time this batch of mail reaches
    /// it (marked `mailed`), else None (also when it is gone or being closed).
    pub(super) fn push_to(&mut self, client: u64, bytes: &[u8]) -> Option<usize> {
        let slot = *self.by_client.get(&client)?;
        let gen = self.conns.get(slot)?.as_ref()?.gen;
        self.take_back(slot, gen);
        let limits = self.limits;
        let c = self.conns.get_mut(slot)?.as_mut()?;
        if c.client != client || c.dying || c.over_limit {
            return None;
        }
        c.queued.extend(bytes);
        let pending = c.backlog();
        if limits.over(c.class, pending, &mut c.soft_since) {
            // As Redis's closeClientOnOutputBufferLimitReached: what is queued is dropped
            // with the client; JavaScript logs it and closes it.
            c.over_limit = true;
            c.queued = OutQueue::default();
            let gen = c.gen;
            self.pending.push_back(Pending::OverLimit(slot, gen));
            return None;
        }
        // A fan-out reaches the same clients over and over: list each once, not sort later.
        if c.mailed {
            return None;
        }
        c.mailed = true;
        Some(slot)
    }
}
