//! A worker's socket I/O through io_uring: accepts, reads and writes of every connection of
//! the worker go through one ring, and JavaScript sees them as one batch per loop turn.
//!
//! Node's own sockets cost a JS callback and a write syscall per request; at one request per
//! round trip that is the wall. Here one `turn` call hands the ring every reply of the last
//! batch, submits them with the next reads in a single `io_uring_enter`, and returns all the
//! input that arrived, so the per-request cost is neither a syscall nor a callback.
//!
//! Input (`uring/pool.rs`): the kernel reads into the ring's pool of buffers, and JavaScript
//! parses the bytes there, through one Buffer over the pool (`ringPool`): a DATA event lends
//! its buffer to JavaScript until the next turn, which gives every lent buffer back to the
//! kernel. Input is copied in user space only where it is kept (a value into the keyspace, a
//! request cut by a read into the connection's own buffer).
//!
//! Output (`uring/output.rs`): each connection's send queue lives here. The core writes a
//! batch's replies straight into it (`execute`: one copy from the keyspace to the queue the
//! kernel sends from), and replies made in JavaScript join the same queue in order (`send`).
//! A client whose pending output passes `OUTPUT_HIGH_WATER` is not read from until it drains
//! to `OUTPUT_LOW_WATER`, when a DRAINED event tells JavaScript to run the input it held
//! back: a client that pipelines faster than it reads is slowed, and its output costs about
//! its own size.
//!
//! Big arguments (`uring/big_arg.rs`): when a request's last argument is a big bulk string,
//! JavaScript calls `bigArgBegin` and from then on that client's bytes are copied into one
//! buffer of exactly the argument's size, owned here, instead of into JavaScript's input; once
//! it is whole, a BIGARG event says so, and the command runs with that buffer as its last
//! argument, which the keyspace may keep as the value (`execute`, batch.rs `BIG_ARG_MARK`). A
//! 600 MB SET then costs 600 MB once, and no copy of it holds the worker up when it runs.
//!
//! Mail (`uring/mail.rs`): a wake of the ring's eventfd means the worker's mailbox has mail
//! (or the main thread wants its JavaScript to have a turn). The ring takes the mail itself:
//! pushes (pub/sub messages, invalidations, MONITOR lines) go straight onto their clients'
//! send queues, under the client's `client-output-buffer-limit` class, and only the rest
//! reaches JavaScript.
//!
//! Events out (`ringEvents`), 5 u32 words each: `kind, slot, gen, offset, len` (ACCEPT; DATA:
//! bytes `pool[offset..+len]`, valid until the next turn; CLOSED: the connection is gone and
//! its slot free; WAKE; DRAINED; BIGARG: the big argument of (slot, gen) is whole; OVERLIMIT:
//! pushes took the client past its output limit; MAIL: `kind, mail kind, client id, offset,
//! len`, the mail's bytes in `ringMail[offset..+len]`).
//!
//! A slot is reused only after its CLOSED event, and `gen` tells an old connection's ops
//! from a new one's, so a late reply can never reach the wrong client.

use std::collections::{HashMap, VecDeque};
use std::os::fd::RawFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use io_uring::{cqueue, opcode, squeue, types, IoUring};
use napi::{Error, Result, Status};
use napi_derive::napi;
use shrike_keyspace::mailbox::Mail;
use shrike_keyspace::ReplySink;

use crate::direct_reply::DirectSink;
use crate::shared_pages::SharedPages;
use crate::spare_bufs::SpareBufs;

use crate::batch::{keyspace, last_block, run_batch, Batch, FLAG_DISCARD, FLAG_RESP3};

mod big_arg;
mod mail;
mod out_queue;
mod output;
mod pool;
use big_arg::BigArg;
use out_queue::OutQueue;
use output::OutputLimits;
use pool::BufRing;

/// An SQE on a connection's socket: through its slot in the ring's file table when it has
/// one (`Conn::fixed`), so that the kernel need not look the fd up and count a reference per
/// op (fget was about 1% of a GET `-P 1` profile), else through its fd.
macro_rules! on_socket {
    ($conn:expr, $slot:expr, |$t:ident| $sqe:expr) => {
        if $conn.fixed {
            let $t = types::Fixed($slot as u32);
            $sqe
        } else {
            let $t = types::Fd($conn.fd);
            $sqe
        }
    };
}
use on_socket;

/// Event kinds (ring -> JavaScript).
const EV_ACCEPT: u32 = 1;
const EV_DATA: u32 = 2;
const EV_CLOSED: u32 = 3;
const EV_WAKE: u32 = 4;
const EV_DRAINED: u32 = 5;
const EV_BIGARG: u32 = 6;
const EV_OVERLIMIT: u32 = 7;
const EV_MAIL: u32 = 8;

/// Words per event record.
const REC: usize = 5;
/// Event records a turn hands over at most.
const MAX_EVENTS: usize = 1024;
/// Room for a turn's mail bytes (read bytes stay in the pool).
const MAIL_BYTES: usize = 2 * 1024 * 1024;

/// user_data tags.
const TAG_ACCEPT: u64 = 1;
const TAG_RECV: u64 = 2;
const TAG_SEND: u64 = 3;
const TAG_WAKE: u64 = 4;

/// Bytes per read buffer. Reads take a buffer from the worker's pool only when data arrives
/// (a registered buffer ring), so an idle client holds none and a big read comes in one piece.
const RECV_LEN: usize = 64 * 1024;
/// Read buffers per worker: connections with data waiting for JavaScript each hold one, and
/// a turn's reads stay lent to JavaScript until the next turn, so there are enough for a
/// turn's reads while the kernel fills more. The pages are touched only as reads need them.
const RECV_BUFS: u16 = 128;
/// The most a `one_shot` read takes: the head of a client's next big argument, and little of
/// its body, which the argument's own recv then reads in place (what this read took of it
/// is copied).
const ONE_SHOT_LEN: u32 = 4096;
const BUF_GROUP: u16 = 0;
const TAG_CANCEL: u64 = 5;
/// A plain recv straight into a big argument's buffer (see `arm_big_recv`).
const TAG_BIGRECV: u64 = 6;

/// Stop reading from a client whose unsent replies pass this, until they drain.
const OUTPUT_HIGH_WATER: usize = 8 * 1024 * 1024;
/// A client held back for its output is served again once it is down to this.
const OUTPUT_LOW_WATER: usize = OUTPUT_HIGH_WATER / 2;
/// A drained send buffer bigger than this is not kept by its connection, so that one big
/// reply does not pin its memory to it: it goes to the ring's spares (or is freed).
const SEND_BUF_KEEP: usize = 64 * 1024;
/// The most the ring keeps in spare send buffers (`spare_bufs.rs`).
const SPARE_BYTES: usize = 16 * 1024 * 1024;

fn user_data(tag: u64, slot: usize, gen: u32) -> u64 {
    (u64::from(gen) << 32) | ((slot as u64) << 8) | tag
}

fn split_user_data(ud: u64) -> (u64, usize, u32) {
    (
        ud & 0xff,
        ((ud >> 8) & 0xff_ffff) as usize,
        (ud >> 32) as u32,
    )
}

/// One client connection's ring-side state.
struct Conn {
    fd: RawFd,
    gen: u32,
    /// A cancel of the multishot read is in flight (the client is paused for its backlog).
    cancelling: bool,
    recv_armed: bool,
    /// Bytes being sent (all but the first `sent` still owed to the kernel).
    sending: OutQueue,
    sent: usize,
    send_inflight: bool,
    /// The iovecs and message header of the send in flight when `sending` has values
    /// spliced in (the kernel reads them until the send completes).
    iov: Vec<libc::iovec>,
    msg: Option<Box<libc::msghdr>>,
    /// Replies queued while a send is in flight.
    queued: OutQueue,
    close_when_drained: bool,
    /// Shut down; the slot is freed once no op is in flight.
    dying: bool,
    /// Output passed the high-water mark: JavaScript holds the client's input back and
    /// wants a DRAINED event once it is down to the low-water mark.
    watch_drain: bool,
    /// Its CLIENT ID (0 until JavaScript binds it), for mail addressed to it.
    client: u64,
    /// Its `client-output-buffer-limit` class (`OutputLimits`), as JavaScript sets it.
    class: usize,
    /// Since when pushes have kept its output over the class's soft limit.
    soft_since: Option<Instant>,
    /// Pushes took it over its output limit: it is being closed and gets no more.
    over_limit: bool,
    /// The mail being taken pushed to it: its output starts once the whole batch is in.
    mailed: bool,
    /// On the ring's `to_send` list: its queued output goes out at the next submit.
    send_wanted: bool,
    /// It sent a big argument: its reads are single, each seen by JavaScript before the next
    /// is armed, so that the head of its next big argument reaches JavaScript before the
    /// kernel has read the argument's body into the pool (which would cost a copy of it
    /// into the argument's buffer); the body is then read straight into that buffer. A read
    /// that starts no big argument brings the multishot read back.
    one_shot: bool,
    /// Its last batch ended in a block whose reply it will read (not CLIENT REPLY OFF or
    /// SKIP): the REPLY mail that ends the block goes onto its send queue here, at once,
    /// rather than through JavaScript, which only resumes its input.
    reply_direct: bool,
    /// Bytes its last batch left queued: the room its next batch starts with.
    out_hint: usize,
    /// Its socket as lent to the thread that ends its block (`direct_reply.rs`), made the
    /// first time it blocks.
    direct: Option<Arc<DirectSink>>,
    /// The socket is lent: nothing may be queued for it before `take_back`.
    lent: bool,
    /// Its fd is in the ring's file table at its slot (`on_socket`).
    fixed: bool,
}

impl Conn {
    /// Nothing queued or in flight for it.
    fn idle(&self) -> bool {
        !self.send_inflight && self.sent >= self.sending.len() && self.queued.is_empty()
    }

    /// Take its socket back if lent: what a reply written from outside left unsent goes
    /// first in its queue. Returns the bytes that reply sent.
    fn take_back(&mut self) -> usize {
        if !std::mem::take(&mut self.lent) {
            return 0;
        }
        let Some(sink) = &self.direct else {
            return 0;
        };
        let (sent, rest) = sink.reclaim();
        if !rest.is_empty() {
            self.queued.prepend(rest);
        }
        sent
    }

    fn backlog(&self) -> usize {
        self.sending.len() - self.sent + self.queued.len()
    }

    /// Output buffers held: (bytes pending, buffers holding them, bytes allocated).
    fn output_use(&self) -> (usize, usize, usize) {
        let bufs =
            usize::from(self.sending.len() > self.sent) + usize::from(!self.queued.is_empty());
        // The values spliced in count as their own size: what Redis would hold for them.
        (
            self.backlog(),
            bufs,
            self.sending.capacity() + self.queued.capacity(),
        )
    }
}

/// What the ring owes JavaScript, delivered in order.
enum Pending {
    Accept(usize, u32),
    /// Bytes read into pool buffer `bid`: (slot, gen, bid, offset, len).
    Data(usize, u32, u16, u32, u32),
    Closed(usize, u32),
    Wake,
    /// A client held back for its output has drained.
    Drained(usize, u32),
    /// A big argument received straight into its buffer is whole.
    BigDone(usize, u32),
    /// Pushes took a client over its output limit.
    OverLimit(usize, u32),
    /// Mail for JavaScript: (mail kind, client id, bytes).
    Mail(u32, u64, Arc<[u8]>),
}

/// A worker's io_uring: its listeners, its connections, and the event queue for JavaScript,
/// which reaches it through `ring_calls.rs`.
pub struct Ring {
    ring: IoUring,
    listeners: Vec<RawFd>,
    accepting: Vec<bool>,
    conns: Vec<Option<Conn>>,
    free: Vec<usize>,
    gens: Vec<u32>,
    pending: VecDeque<Pending>,
    wake_fd: RawFd,
    wake_buf: Box<u64>,
    wake_armed: bool,
    cqes: Vec<(u64, i32, u32)>,
    stopped: bool,
    /// Being dropped: nothing is re-armed.
    closing: bool,
    /// The read buffer pool the kernel picks from (`RECV_BUFS` x `RECV_LEN`).
    pool: SharedPages,
    /// Slots of the ring's file table (0: none); a connection's fd goes in at its slot.
    files: u32,
    /// Where a turn writes its event records and mail bytes for JavaScript (`ringEvents`,
    /// `ringMail`); out of the ring only while a turn writes them.
    turn_out: Option<TurnOut>,
    /// A read has written into the pool since its pages were last given back.
    pool_used: bool,
    /// JavaScript asked for the pool's pages to be given back (`release_pool`).
    rest_asked: bool,
    /// Reads are being stopped so that the pool's pages can be given back (`rest_pool`):
    /// no read on the pool is armed meanwhile.
    resting: bool,
    bufs: BufRing,
    /// Connections whose read found the pool empty; re-armed once buffers come back.
    starved: Vec<usize>,
    /// Pool buffers whose bytes JavaScript is reading (DATA events of the last turn); they
    /// go back to the kernel at the next turn.
    lent: Vec<u16>,
    /// `one_shot` clients whose single read completed: read again at the next turn, once
    /// JavaScript has seen it.
    probed: Vec<(usize, u32)>,
    /// Bytes sent to clients since the ring started (INFO total_net_output_bytes).
    bytes_sent: u64,
    /// Big arguments by slot (see `BigArg`).
    bigs: Vec<Option<BigArg>>,
    /// This ring's worker index: whose mailbox it takes.
    worker: u32,
    /// Slots by CLIENT ID, for mail.
    by_client: HashMap<u64, usize>,
    /// Mail taken and being handled (kept for its allocation).
    mail: Vec<Mail>,
    /// Mail queued replies that ended blocks (see `turn`).
    replied: bool,
    limits: OutputLimits,
    /// `tcp-keepalive` seconds for the sockets accepted from now on (0: off).
    keepalive: u32,
    /// Big send buffers drained by clients, for the next big batch (`SPARE_BYTES`).
    spares: SpareBufs,
    /// Connections with output queued since the last submit. Their sends start just before
    /// it, so everything a turn queued for a client (replies written in JavaScript and in the
    /// core, pushes) leaves in one send rather than one per piece.
    to_send: Vec<usize>,
}

pub(crate) fn os_error(what: &str) -> Error {
    Error::new(
        Status::GenericFailure,
        format!("{what}: {}", std::io::Error::last_os_error()),
    )
}

impl Ring {
    /// A ring over the given listening sockets (made by `listenReuseport`) for worker
    /// `worker`, woken early by writes to `wake_fd` (made by `createWakeFd`; the ring reads it
    /// but does not own it), which posting to the worker's mailbox makes.
    pub fn new(listen_fds: Vec<i32>, entries: u32, wake_fd: i32, worker: u32) -> Result<Self> {
        // The worker's thread enters the kernel every turn anyway, so completions need not
        // interrupt it with an IPI each (COOP_TASKRUN, 5.19+; older kernels get a plain ring).
        // DEFER_TASKRUN was tried and left out: waits then often ran to their timeout with
        // completions pending, which cut -P 1 throughput by half when the client ran on the
        // other CPU.
        // Only this worker's thread submits (SINGLE_ISSUER, 6.0+), which spares the kernel
        // some locking per submit.
        let ring = IoUring::builder()
            .setup_coop_taskrun()
            .setup_single_issuer()
            .build(entries.max(64))
            .or_else(|_| {
                IoUring::builder()
                    .setup_coop_taskrun()
                    .build(entries.max(64))
            })
            .or_else(|_| IoUring::builder().build(entries.max(64)))
            .map_err(|e| Error::new(Status::GenericFailure, format!("io_uring_setup: {e}")))?;
        let n = listen_fds.len();
        let mut r = Ring {
            ring,
            listeners: listen_fds,
            accepting: vec![false; n],
            conns: Vec::new(),
            free: Vec::new(),
            gens: Vec::new(),
            pending: VecDeque::new(),
            wake_fd,
            wake_buf: Box::new(0),
            wake_armed: false,
            cqes: Vec::with_capacity(1024),
            to_send: Vec::new(),
            stopped: false,
            closing: false,
            pool: SharedPages::new(RECV_LEN * usize::from(RECV_BUFS), "mmap read pool")?,
            files: 0,
            turn_out: Some(TurnOut {
                events: SharedPages::new(REC * MAX_EVENTS * 4, "mmap ring events")?,
                mail: SharedPages::new(MAIL_BYTES, "mmap ring mail")?,
            }),
            pool_used: false,
            rest_asked: false,
            resting: false,
            bufs: BufRing::new(RECV_BUFS)?,
            starved: Vec::new(),
            lent: Vec::new(),
            probed: Vec::new(),
            bytes_sent: 0,
            bigs: Vec::new(),
            worker,
            by_client: HashMap::new(),
            mail: Vec::new(),
            replied: false,
            limits: OutputLimits::default(),
            keepalive: 0,
            spares: SpareBufs::new(SPARE_BYTES),
        };
        // SAFETY: the ring memory is page-aligned, RECV_BUFS entries long, and lives as long as
        // `r` (the kernel reads it until the io_uring is closed, which `r` drops first).
        unsafe {
            r.ring
                .submitter()
                .register_buf_ring_with_flags(r.bufs.addr(), RECV_BUFS, BUF_GROUP, 0)
                .map_err(|e| Error::new(Status::GenericFailure, format!("buffer ring: {e}")))?;
        }
        let files = file_table_size();
        if r.ring.submitter().register_files_sparse(files).is_ok() {
            r.files = files;
        }
        for bid in 0..RECV_BUFS {
            r.recycle(bid);
        }
        r.bufs.publish();
        for i in 0..n {
            r.arm_accept(i)?;
        }
        r.arm_wake()?;
        Ok(r)
    }

    /// Submit what is queued, wait up to `timeout_ms` for completions when there is nothing
    /// to hand over yet, and write events (`events_view`; mail bytes into `mail_view`).
    /// Returns the number of events.
    pub fn turn(&mut self, timeout_ms: u32) -> Result<u32> {
        // Completions JavaScript need not see (sends) must not end the wait: wait again until
        // there is an event for it or the time is up. The clock is read only for a wait (a
        // busy worker turns with nothing to wait for, several times per request at -P 1).
        let timeout = Duration::from_millis(u64::from(timeout_ms));
        let mut deadline: Option<Instant> = None;
        self.return_lent()?;
        self.read_after_probes()?;
        loop {
            if crate::mailbox::take_self_wake() {
                // Mail this worker posted to itself (a push that served one of its own
                // blocked clients): the served client's reply leaves in the submit below,
                // with the reply of the client that served it.
                self.take_mail(false)?;
                self.replied = false;
            }
            self.start_rest()?;
            self.start_wanted_sends()?;
            let wait = self.pending.is_empty() && timeout_ms > 0;
            let left = match (wait, deadline) {
                (false, _) => Duration::ZERO,
                (true, None) => {
                    deadline = Some(Instant::now() + timeout);
                    timeout
                }
                (true, Some(d)) => d.saturating_duration_since(Instant::now()),
            };
            let timed_out = self.submit(wait, left)?;
            self.reap()?;
            self.finish_rest()?;
            if std::mem::take(&mut self.replied) && !self.pending.is_empty() {
                // Another worker's push served a client blocked here: its reply goes out
                // now, not after JavaScript has had its turn.
                self.start_wanted_sends()?;
                self.submit(false, Duration::ZERO)?;
            }
            if !self.pending.is_empty() || !wait || timed_out || left.is_zero() {
                break;
            }
        }
        let mut out = self
            .turn_out
            .take()
            .ok_or_else(|| Error::new(Status::GenericFailure, "ring turn inside a turn"))?;
        let TurnOut { events, mail } = &mut out;
        let n = self.deliver(mail, events.words_mut());
        self.turn_out = Some(out);
        Ok(n? as u32)
    }

    /// A turn's event records (`REC` words each) as a JavaScript Buffer, read as 32-bit
    /// words; written by every `turn`.
    pub fn events_view<'env>(
        &self,
        env: &'env napi::Env,
    ) -> Result<napi::bindgen_prelude::BufferSlice<'env>> {
        self.turn_out().and_then(|t| t.events.view(env))
    }

    /// A turn's mail bytes (MAIL events are ranges of it) as a JavaScript Buffer.
    pub fn mail_view<'env>(
        &self,
        env: &'env napi::Env,
    ) -> Result<napi::bindgen_prelude::BufferSlice<'env>> {
        self.turn_out().and_then(|t| t.mail.view(env))
    }

    fn turn_out(&self) -> Result<&TurnOut> {
        self.turn_out
            .as_ref()
            .ok_or_else(|| Error::new(Status::GenericFailure, "ring turn inside a turn"))
    }

    /// The read pool as a JavaScript Buffer: DATA events are ranges of it.
    pub fn pool_view<'env>(
        &self,
        env: &'env napi::Env,
    ) -> Result<napi::bindgen_prelude::BufferSlice<'env>> {
        self.pool.view(env)
    }

    /// JavaScript has seen the single reads of `one_shot` clients: a client whose read began
    /// a big argument gets a recv straight into it (`arm_big_recv`); the others go back to
    /// the multishot read.
    fn read_after_probes(&mut self) -> Result<()> {
        if self.probed.is_empty() {
            return Ok(());
        }
        let mut probed = std::mem::take(&mut self.probed);
        for &(slot, gen) in &probed {
            let big = matches!(self.bigs.get(slot), Some(Some(b)) if b.gen == gen && !b.whole());
            let Some(c) = self.conn_mut(slot, gen) else {
                continue;
            };
            c.one_shot = big;
            self.arm_recv(slot)?;
        }
        probed.clear();
        self.probed = probed;
        Ok(())
    }

    /// Run a batch of core commands for one client (layout as the binding's `execute`), the
    /// replies going straight onto its send queue. Returns how many ran, with `RESULT_OVER`
    /// set when the client's output passed the high-water mark (the rest of the batch, and
    /// its further input, wait for a DRAINED event). A client already gone still has its
    /// commands run, as Redis runs what it read before it saw the close.
    #[allow(clippy::too_many_arguments)]
    pub fn execute(
        &mut self,
        slot: u32,
        gen: u32,
        buf: &[u8],
        cmds: &[u32],
        len: u32,
        db: u32,
        flags: u32,
    ) -> Result<u32> {
        let cmds = cmds
            .get(..len as usize)
            .ok_or_else(|| Error::new(Status::InvalidArg, "malformed command batch"))?;
        let slot = slot as usize;
        let resp3 = flags & FLAG_RESP3 != 0;
        // A whole big argument goes to the batch; whatever the batch does not keep of it is
        // freed when its command ends.
        let mut big = self.take_big(slot, gen);
        let mut batch = Batch {
            buf,
            cmds,
            db,
            flags,
            client: 0,
        };
        self.take_back(slot, gen);
        self.presize_queue(slot, gen);
        let Some(c) = self.conn_mut(slot, gen).filter(|c| !c.dying) else {
            let mut sink = ReplySink::resp(Vec::new(), resp3);
            return run_batch(&batch, &mut sink, usize::MAX, &mut big);
        };
        batch.client = c.client;
        let in_flight = c.sending.len() - c.sent;
        let (bytes, refs) = c.queued.take_parts();
        let mut sink = ReplySink::resp_spliced(bytes, resp3, refs);
        let limit = OUTPUT_HIGH_WATER.saturating_sub(in_flight);
        let ran = run_batch(&batch, &mut sink, limit, &mut big);
        let (bytes, refs) = sink.into_parts();
        c.queued.set_parts(bytes, refs);
        c.out_hint = c.queued.bytes.len();
        c.reply_direct = last_block() >= 0.0 && flags & FLAG_DISCARD == 0;
        let ran = ran?;
        let over = self.after_output(slot)?;
        self.lend(slot);
        Ok(ran | over)
    }

    /// Queue reply bytes written in JavaScript for a client, `data[start..end]`, after
    /// everything queued before (a range, so JavaScript makes no slice object per reply).
    /// Returns `RESULT_OVER` when its output passed the high-water mark, else 0.
    pub fn send(&mut self, slot: u32, gen: u32, data: &[u8], start: u32, end: u32) -> Result<u32> {
        let slot = slot as usize;
        let bytes = data
            .get(start as usize..end as usize)
            .ok_or_else(|| Error::new(Status::InvalidArg, "reply range out of bounds"))?;
        self.take_back(slot, gen);
        match self.conn_mut(slot, gen) {
            Some(c) if !c.dying => c.queued.extend(bytes),
            _ => return Ok(0),
        }
        self.after_output(slot)
    }

    /// Name the client of (slot, gen) by its CLIENT ID, so mail for it finds it.
    pub fn bind_client(&mut self, slot: u32, gen: u32, client: f64) {
        let client = client as u64;
        if let Some(c) = self.conn_mut(slot as usize, gen) {
            c.client = client;
            self.by_client.insert(client, slot as usize);
        }
    }

    /// Set the `client-output-buffer-limit` class pushes to this client are held to
    /// (0 normal, 1 replica, 2 pubsub).
    pub fn set_output_class(&mut self, slot: u32, gen: u32, output_class: u32) {
        if let Some(c) = self.conn_mut(slot as usize, gen) {
            c.class = output_class as usize;
        }
    }

    /// The `client-output-buffer-limit` values, 9 numbers: hard, soft, soft seconds for
    /// normal, replica and pubsub clients, as the config holds them.
    pub fn set_output_limits(&mut self, limits: Vec<f64>) {
        let at = |i: usize| limits.get(i).copied().unwrap_or(0.0).max(0.0);
        for (class, l) in self.limits.0.iter_mut().enumerate() {
            let i = class * 3;
            *l = (at(i) as usize, at(i + 1) as usize, at(i + 2) as u64);
        }
    }

    /// `tcp-keepalive` for the clients accepted from now on, as Redis applies it.
    pub fn set_keepalive(&mut self, interval: u32) {
        self.keepalive = interval;
    }

    /// Close a client once everything queued for it is sent.
    pub fn end(&mut self, slot: u32, gen: u32) -> Result<()> {
        let slot = slot as usize;
        self.take_back(slot, gen);
        if let Some(c) = self.conn_mut(slot, gen) {
            c.close_when_drained = true;
            self.start_send(slot)?;
        }
        Ok(())
    }

    /// Close a client now, dropping what is queued for it.
    pub fn destroy(&mut self, slot: u32, gen: u32) {
        if self.conn(slot as usize, gen).is_some() {
            self.kill(slot as usize);
        }
    }

    /// A client's output buffers as CLIENT LIST shows them: `[omem, oll, allocated]` (bytes
    /// pending, buffers holding them, bytes allocated for them).
    pub fn output_use(&self, slot: u32, gen: u32) -> Vec<f64> {
        let (pending, bufs, allocated) = self
            .conn(slot as usize, gen)
            .map_or((0, 0, 0), Conn::output_use);
        vec![pending as f64, bufs as f64, allocated as f64]
    }

    /// Bytes sent to clients since the ring started.
    pub fn bytes_sent(&self) -> f64 {
        self.bytes_sent as f64
    }

    /// Bytes allocated for every client's output on this ring (INFO `mem_clients_normal`).
    pub fn output_bytes(&self) -> f64 {
        self.conns
            .iter()
            .flatten()
            .map(|c| c.output_use().2)
            .sum::<usize>() as f64
    }

    /// Remote and local address of a connection: `[remoteIp, remotePort, localIp, localPort]`.
    pub fn addresses(&self, slot: u32, gen: u32) -> Vec<String> {
        match self.conn(slot as usize, gen) {
            Some(c) => {
                let (rip, rport) = sock_name(c.fd, true);
                let (lip, lport) = sock_name(c.fd, false);
                vec![rip, rport.to_string(), lip, lport.to_string()]
            }
            None => vec![String::new(), "0".into(), String::new(), "0".into()],
        }
    }

    /// The connection's file descriptor (CLIENT LIST `fd=`), or -1.
    pub fn fd(&self, slot: u32, gen: u32) -> i32 {
        self.conn(slot as usize, gen).map_or(-1, |c| c.fd)
    }

    /// Stop accepting: shut the listeners down so that the kernel sends new clients elsewhere.
    pub fn stop_accepting(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        for &fd in &self.listeners {
            // SAFETY: closing an fd this ring owns; an accept in flight completes with an error.
            unsafe {
                libc::shutdown(fd, libc::SHUT_RDWR);
                libc::close(fd);
            }
        }
        self.listeners.clear();
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        self.stop_accepting();
        // Shut every client down, cancel the wake read, and reap until nothing is in flight,
        // so that no read or send still points into the pool or a send buffer when they are
        // freed (the kernel's own cancellation at ring close is asynchronous). Bounded: a
        // worker that is going away does not hang on it.
        for slot in 0..self.conns.len() {
            self.kill(slot);
        }
        let cancel = opcode::AsyncCancel::new(user_data(TAG_WAKE, 0, 0))
            .build()
            .user_data(user_data(TAG_CANCEL, 0, 0));
        let _ = self.push(cancel);
        self.closing = true;
        let deadline = Instant::now() + Duration::from_millis(200);
        while self.in_flight() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || self.submit(true, left).is_err() || self.reap().is_err() {
                break;
            }
        }
        for c in self.conns.iter().flatten() {
            // SAFETY: fds owned by this ring; the ring itself is dropped right after.
            unsafe {
                libc::close(c.fd);
            }
        }
    }
}

/// An eventfd for waking a worker's ring. The main thread owns it for the life of the process,
/// so that a write can never reach an fd number that a dead worker's close made reusable.
#[napi(catch_unwind)]
pub fn create_wake_fd() -> Result<i32> {
    // SAFETY: eventfd with valid flags; the result is checked.
    let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
    if fd < 0 {
        return Err(os_error("eventfd"));
    }
    Ok(fd)
}

/// Wake a ring blocked in `turn` from any thread (the fd from `createWakeFd`).
#[napi(catch_unwind)]
pub fn wake_ring(fd: i32) {
    let one: u64 = 1;
    // SAFETY: writes 8 bytes from a live u64 to an eventfd; errors (EAGAIN when the counter is
    // saturated, EBADF after the ring is gone) mean nothing to do.
    unsafe {
        libc::write(fd, (&one as *const u64).cast(), 8);
    }
}

impl Ring {
    /// Whether any op still references memory this ring owns.
    fn in_flight(&self) -> bool {
        self.wake_armed
            || self
                .conns
                .iter()
                .flatten()
                .any(|c| c.recv_armed || c.send_inflight)
    }

    fn conn(&self, slot: usize, gen: u32) -> Option<&Conn> {
        self.conns
            .get(slot)
            .and_then(|c| c.as_ref())
            .filter(|c| c.gen == gen)
    }

    fn conn_mut(&mut self, slot: usize, gen: u32) -> Option<&mut Conn> {
        self.conns
            .get_mut(slot)
            .and_then(|c| c.as_mut())
            .filter(|c| c.gen == gen)
    }

    fn push(&mut self, sqe: squeue::Entry) -> Result<()> {
        loop {
            // SAFETY: every buffer an SQE points into is owned by a Conn (or the ring) that
            // stays alive and unmoved until its completion is reaped: Conn buffers are boxed or
            // Vec-backed and are never touched while their op is in flight.
            let pushed = unsafe { self.ring.submission().push(&sqe).is_ok() };
            if pushed {
                return Ok(());
            }
            self.ring
                .submit()
                .map_err(|e| Error::new(Status::GenericFailure, format!("io_uring_enter: {e}")))?;
        }
    }

    fn arm_accept(&mut self, i: usize) -> Result<()> {
        let Some(&fd) = self.listeners.get(i) else {
            return Ok(());
        };
        let sqe = opcode::AcceptMulti::new(types::Fd(fd))
            .flags(libc::SOCK_CLOEXEC)
            .build()
            .user_data(user_data(TAG_ACCEPT, i, 0));
        self.push(sqe)?;
        if let Some(a) = self.accepting.get_mut(i) {
            *a = true;
        }
        Ok(())
    }

    fn arm_wake(&mut self) -> Result<()> {
        let ptr = (&mut *self.wake_buf as *mut u64).cast::<u8>();
        let sqe = opcode::Read::new(types::Fd(self.wake_fd), ptr, 8)
            .build()
            .user_data(user_data(TAG_WAKE, 0, 0));
        self.push(sqe)?;
        self.wake_armed = true;
        Ok(())
    }

    fn arm_recv(&mut self, slot: usize) -> Result<()> {
        let Some(Some(c)) = self.conns.get_mut(slot) else {
            return Ok(());
        };
        if c.recv_armed || c.dying || c.backlog() > OUTPUT_HIGH_WATER {
            return Ok(());
        }
        if self.arm_big_recv(slot)? || self.resting {
            // Resting: `finish_rest` arms every client's read again.
            return Ok(());
        }
        let Some(Some(c)) = self.conns.get_mut(slot) else {
            return Ok(());
        };
        // One multishot read per client: it keeps completing, one buffer per arrival, until
        // the client goes, the pool runs dry, or a backlog cancels it. A `one_shot` client
        // gets one read at a time, from the same pool.
        c.recv_armed = true;
        let sqe = if c.one_shot {
            on_socket!(c, slot, |t| opcode::Recv::new(
                t,
                std::ptr::null_mut(),
                ONE_SHOT_LEN
            )
            .buf_group(BUF_GROUP)
            .build())
            .flags(squeue::Flags::BUFFER_SELECT)
        } else {
            on_socket!(c, slot, |t| opcode::RecvMulti::new(t, BUF_GROUP).build())
        };
        let sqe = sqe.user_data(user_data(TAG_RECV, slot, c.gen));
        self.push(sqe)
    }

    /// Stop reading from a client whose unsent replies passed the high-water mark.
    fn pause_recv(&mut self, slot: usize) -> Result<()> {
        let Some(Some(c)) = self.conns.get_mut(slot) else {
            return Ok(());
        };
        if !c.recv_armed || c.cancelling || c.dying || c.backlog() <= OUTPUT_HIGH_WATER {
            return Ok(());
        }
        c.cancelling = true;
        let sqe = opcode::AsyncCancel::new(user_data(TAG_RECV, slot, c.gen))
            .build()
            .user_data(user_data(TAG_CANCEL, slot, c.gen));
        self.push(sqe)
    }

    /// Shut the socket down; the slot is freed once its ops in flight complete.
    fn kill(&mut self, slot: usize) {
        let Some(Some(c)) = self.conns.get_mut(slot) else {
            return;
        };
        if !c.dying {
            c.dying = true;
            if let Some(sink) = c.direct.take() {
                // No reply is written from outside from here on (one under way is waited for).
                sink.close();
                if let Ok(ks) = keyspace() {
                    ks.mail.set_direct(c.client, self.worker as usize, None);
                }
            }
            // SAFETY: shutdown on an fd this connection owns; it makes ops in flight complete.
            unsafe {
                libc::shutdown(c.fd, libc::SHUT_RDWR);
            }
        }
        self.maybe_free(slot);
    }

    fn maybe_free(&mut self, slot: usize) {
        let Some(entry) = self.conns.get_mut(slot) else {
            return;
        };
        let done = matches!(entry, Some(c) if c.dying && !c.recv_armed && !c.send_inflight);
        if !done {
            return;
        }
        if let Some(c) = entry.take() {
            if c.sending.capacity() + c.queued.capacity() > SEND_BUF_KEEP {
                crate::alloc::note_big_free();
            }
            if c.fixed {
                // The table holds its own reference: the socket would outlive the close.
                let _ = self
                    .ring
                    .submitter()
                    .register_files_update(slot as u32, &[-1]);
            }
            // SAFETY: no op references the fd any more.
            unsafe {
                libc::close(c.fd);
            }
            if self.by_client.get(&c.client) == Some(&slot) {
                self.by_client.remove(&c.client);
            }
            self.pending.push_back(Pending::Closed(slot, c.gen));
            self.free.push(slot);
        }
    }

    /// Submit; with `wait`, block until a completion or `left` passes. True when it timed out.
    fn submit(&mut self, wait: bool, left: Duration) -> Result<bool> {
        let res = if wait && !left.is_zero() {
            let ts = types::Timespec::from(left);
            let args = types::SubmitArgs::new().timespec(&ts);
            self.ring.submitter().submit_with_args(1, &args)
        } else {
            self.ring.submit()
        };
        match res {
            Ok(_) => Ok(false),
            Err(e) if e.raw_os_error() == Some(libc::ETIME) => Ok(true),
            Err(e) if matches!(e.raw_os_error(), Some(libc::EINTR | libc::EBUSY)) => Ok(false),
            Err(e) => Err(Error::new(
                Status::GenericFailure,
                format!("io_uring_enter: {e}"),
            )),
        }
    }

    fn reap(&mut self) -> Result<()> {
        let mut cqes = std::mem::take(&mut self.cqes);
        cqes.clear();
        cqes.extend(
            self.ring
                .completion()
                .map(|e: cqueue::Entry| (e.user_data(), e.result(), e.flags())),
        );
        for &(ud, res, flags) in &cqes {
            let (tag, slot, gen) = split_user_data(ud);
            match tag {
                TAG_ACCEPT => self.on_accept(slot, res, flags)?,
                TAG_RECV => self.on_recv(slot, gen, res, flags)?,
                TAG_BIGRECV => self.on_big_recv(slot, gen, res)?,
                TAG_SEND => self.on_send(slot, gen, res)?,
                TAG_WAKE => {
                    self.wake_armed = false;
                    self.take_mail(true)?;
                    // A broken eventfd (EBADF...) would complete at once forever: stop reading it.
                    if !self.closing && (res >= 0 || res == -libc::EINTR || res == -libc::EAGAIN) {
                        self.arm_wake()?;
                    }
                }
                _ => {}
            }
        }
        self.cqes = cqes;
        Ok(())
    }

    fn on_accept(&mut self, i: usize, res: i32, flags: u32) -> Result<()> {
        if !cqueue::more(flags) {
            if let Some(a) = self.accepting.get_mut(i) {
                *a = false;
            }
            if !self.stopped {
                self.arm_accept(i)?;
            }
        }
        if res < 0 {
            return Ok(()); // EMFILE, ECONNABORTED...: the client is gone or must retry
        }
        let fd = res;
        if self.stopped {
            // SAFETY: a connection accepted after shutdown began; nobody will serve it.
            unsafe {
                libc::close(fd);
            }
            return Ok(());
        }
        // As Redis, a socket that refuses an option is served without it.
        let _ = crate::net::set_int_option(fd, libc::IPPROTO_TCP, libc::TCP_NODELAY, 1);
        let _ = crate::net::keepalive(fd, self.keepalive);
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.conns.push(None);
                self.gens.push(0);
                self.conns.len() - 1
            }
        };
        let gen = match self.gens.get_mut(slot) {
            Some(g) => {
                *g = g.wrapping_add(1);
                *g
            }
            None => 0,
        };
        let fixed = (slot as u32) < self.files
            && self
                .ring
                .submitter()
                .register_files_update(slot as u32, &[fd])
                .is_ok();
        // A big argument of the slot's last client that JavaScript never ran or dropped.
        if let Some(b) = self.bigs.get_mut(slot) {
            *b = None;
        }
        if let Some(entry) = self.conns.get_mut(slot) {
            *entry = Some(Conn {
                fd,
                gen,
                cancelling: false,
                recv_armed: false,
                sending: OutQueue::default(),
                sent: 0,
                send_inflight: false,
                iov: Vec::new(),
                msg: None,
                queued: OutQueue::default(),
                close_when_drained: false,
                dying: false,
                watch_drain: false,
                client: 0,
                class: 0,
                soft_since: None,
                over_limit: false,
                mailed: false,
                send_wanted: false,
                one_shot: false,
                reply_direct: false,
                out_hint: 0,
                direct: None,
                lent: false,
                fixed,
            });
        }
        self.pending.push_back(Pending::Accept(slot, gen));
        self.arm_recv(slot)
    }

    fn on_recv(&mut self, slot: usize, gen: u32, res: i32, flags: u32) -> Result<()> {
        let bid = cqueue::buffer_select(flags);
        let more = cqueue::more(flags);
        if let (true, Some(bid)) = (res > 0, bid) {
            self.pool_used = true;
            // Delivered even if the client is already closing: what it sent before going (a
            // last SET, then EOF) still runs, as Redis reads before it sees the close.
            self.pending
                .push_back(Pending::Data(slot, gen, bid, 0, res as u32));
        } else if let Some(bid) = bid {
            self.recycle(bid);
        }
        if more {
            return Ok(());
        }
        let Some(c) = self.conn_mut(slot, gen) else {
            return Ok(());
        };
        c.recv_armed = false;
        let cancelled = std::mem::take(&mut c.cancelling);
        if c.dying {
            self.maybe_free(slot);
        } else if res == -libc::ENOBUFS {
            self.starved.push(slot);
        } else if res > 0 && c.one_shot && !cancelled {
            // Its next read waits until JavaScript has seen this one (`read_after_probes`).
            self.probed.push((slot, gen));
        } else if res > 0 || res == -libc::EINTR || res == -libc::EAGAIN || cancelled {
            // The multishot ended without the client going (or was paused): read on if allowed.
            self.arm_recv(slot)?;
        } else {
            self.kill(slot); // EOF or a reset: the client is gone
        }
        Ok(())
    }

    /// Write pending events into `events`, as many as fit (mail's bytes into `input`; read
    /// bytes stay in the pool, lent).
    fn deliver(&mut self, input: &mut [u8], events: &mut [u32]) -> Result<usize> {
        let mut n = 0usize;
        let mut at = 0usize;
        let cap = events.len() / REC;
        while n < cap {
            let Some(p) = self.pending.front() else { break };
            let rec = match *p {
                Pending::Accept(slot, gen) => [EV_ACCEPT, slot as u32, gen, 0, 0],
                Pending::Closed(slot, gen) => [EV_CLOSED, slot as u32, gen, 0, 0],
                Pending::Wake => [EV_WAKE, 0, 0, 0, 0],
                Pending::Drained(slot, gen) => [EV_DRAINED, slot as u32, gen, 0, 0],
                Pending::BigDone(slot, gen) => [EV_BIGARG, slot as u32, gen, 0, 0],
                Pending::OverLimit(slot, gen) => [EV_OVERLIMIT, slot as u32, gen, 0, 0],
                Pending::Mail(k, client, ref bytes) => {
                    let len = bytes.len();
                    let Some(dst) = input_room(input, at, len, n)? else {
                        break;
                    };
                    dst.copy_from_slice(bytes);
                    let rec = [EV_MAIL, k, client as u32, at as u32, len as u32];
                    at += len;
                    rec
                }
                Pending::Data(slot, gen, bid, off, len) => {
                    let (off, len) = (off as usize, len as usize);
                    let from = usize::from(bid) * RECV_LEN + off;
                    let big = self.bigs.get_mut(slot).and_then(|b| b.as_mut());
                    if let Some(b) = big.filter(|b| b.gen == gen && !b.whole()) {
                        // A big argument on its way: its bytes go to its buffer, not to JS.
                        let took = b.feed(self.pool.get(from..from + len).unwrap_or_default());
                        let whole = b.whole();
                        if took < len {
                            // What follows it in this read (pipelined requests) goes to JS next.
                            if let Some(Pending::Data(_, _, _, o, l)) = self.pending.front_mut() {
                                *o += took as u32;
                                *l -= took as u32;
                            }
                        } else {
                            self.pending.pop_front();
                            self.recycle(bid);
                        }
                        if !whole {
                            continue;
                        }
                        if let Some(dst) = events.get_mut(n * REC..(n + 1) * REC) {
                            dst.copy_from_slice(&[EV_BIGARG, slot as u32, gen, 0, 0]);
                        }
                        n += 1;
                        continue;
                    }
                    // Read where it lies; the buffer comes back at the next turn.
                    self.lent.push(bid);
                    [EV_DATA, slot as u32, gen, from as u32, len as u32]
                }
            };
            if let Some(dst) = events.get_mut(n * REC..(n + 1) * REC) {
                dst.copy_from_slice(&rec);
            }
            self.pending.pop_front();
            n += 1;
        }
        // Buffers a big argument took its bytes from came back.
        self.buffers_back()?;
        Ok(n)
    }
}

/// Room for `len` bytes at `at` in JavaScript's input buffer: None when this turn's events
/// stop here (the rest go next turn), an error when not even the first event's bytes fit.
fn input_room(input: &mut [u8], at: usize, len: usize, n: usize) -> Result<Option<&mut [u8]>> {
    match input.get_mut(at..at + len) {
        Some(dst) => Ok(Some(dst)),
        None if n == 0 => Err(Error::new(Status::InvalidArg, "ring mail buffer too small")),
        None => Ok(None),
    }
}

/// Slots for a ring's file table: as many fds as the process may open (the kernel refuses
/// more), up to 65536 (512 KiB of kernel memory); connections past it use their fd.
fn file_table_size() -> u32 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the local struct.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return 0;
    }
    lim.rlim_cur.min(65536) as u32
}

/// What a turn hands JavaScript besides read bytes, in memory JavaScript sees throughout.
struct TurnOut {
    events: SharedPages,
    mail: SharedPages,
}

/// `getpeername`/`getsockname` as (ip, port); ("", 0) when the socket has no address.
fn sock_name(fd: RawFd, peer: bool) -> (String, u16) {
    // SAFETY: sockaddr_storage is large enough for any address; len tells the kernel its size.
    unsafe {
        let mut ss: libc::sockaddr_storage = std::mem::zeroed();
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        let sa = (&mut ss as *mut libc::sockaddr_storage).cast::<libc::sockaddr>();
        let rc = if peer {
            libc::getpeername(fd, sa, &mut len)
        } else {
            libc::getsockname(fd, sa, &mut len)
        };
        if rc != 0 {
            return (String::new(), 0);
        }
        match i32::from(ss.ss_family) {
            libc::AF_INET => {
                let a = &*(sa as *const libc::sockaddr_in);
                let ip = std::net::Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
                (ip.to_string(), u16::from_be(a.sin_port))
            }
            libc::AF_INET6 => {
                let a = &*(sa as *const libc::sockaddr_in6);
                let ip = std::net::Ipv6Addr::from(a.sin6_addr.s6_addr);
                (ip.to_string(), u16::from_be(a.sin6_port))
            }
            _ => (String::new(), 0),
        }
    }
}
