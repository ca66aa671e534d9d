/**
 * One client connection: its read buffer, the pipeline loop (decode -> dispatch), the batch
 * of core commands sent to Rust in one call per read, its reply buffer, and its state
 * (db, protocol, name, auth, reply mode). A worker owns its connections end to end.
 */
import { ProtocolError, ReplyWriter, Request, RequestParser } from '@shrike/resp3';
import type pino from 'pino';
import { commandWords, writeCommand } from './batch';
import { argvBytes, unixSec } from './clients';
import { monitorLine } from './commands/monitor';
import { subscribedModeError, unsubscribeAllQuietly } from './commands/pubsub';
import { disableTracking, TRACK_CACHING, TRACK_OPTIN, TRACK_OPTOUT } from './commands/tracking';
import { execAborted, flagTransaction, type MultiQueue, queueInMulti, type WatchSet, watchesHold } from './commands/transaction';
import type { Command } from './commands/types';
import { NOAUTH, REPLICA_KEYSPACE, unknownCommand, unknownSubcommand, wrongArity } from './errors';
import { isHttpCommand, warnCrossProtocol } from './security';
import { BIG_ARG_MARK, NetTransport, OUTPUT_OVER, type Transport, type TransportEvents, WATCH_FAILED } from './transport';
import type { WorkerServer } from './worker';

/** Redis's is_read_command || is_write_command || is_may_replicate_command. */
function touchesKeyspace(cmd: Command): boolean {
  const f = cmd.spec.flags;
  return f.includes('readonly') || f.includes('write') || f.includes('may_replicate');
}

/** CLIENT REPLY modes. */
export const ReplyMode = { On: 0, Off: 1, Skip: 2 } as const;
export type ReplyMode = (typeof ReplyMode)[keyof typeof ReplyMode];

/** Batch flags understood by the binding's `execute`. */
const FLAG_NO_TOUCH = 1;
const FLAG_RESP3 = 2;
/** CLIENT REPLY OFF/SKIP: the core runs the commands and drops their replies. */
const FLAG_DISCARD = 4;
/** CLIENT TRACKING: the core remembers the keys the batch's read-only commands read. */
const FLAG_TRACK = 128;
/** The batch ends in a blocking command that may block the client (blocking.ts). */
const FLAG_MAY_BLOCK = 8;
/** The batch belongs to the EXEC in progress: it runs under the locks EXEC holds. */
const FLAG_EXEC = 16;
/** With FLAG_EXEC: the EXEC's locks go after this batch. */
export const FLAG_EXEC_END = 32;
/** A whole EXEC of core commands with no watched key: the core locks, runs and releases it. */
export const FLAG_UNIT = 64;

/**
 * A request's argument past this size gets a read buffer of exactly its declared size, or,
 * when it is the last one and the transport can, is received apart (`bigArgFrom`).
 */
const BIG_ARG = 32 * 1024;

/** bigArgUse() when no big argument is held. */
const NO_BIG_ARG: readonly number[] = [0, 0];
/** The argv of a handler that declares none (`Command.takesArgv`); never read or written. */
const NO_ARGV: Buffer[] = [];

/** Bytes first taken for a request cut inside a header line (`completePending`): any header fits. */
const PENDING_STEP = 256;

/** Give memory back when an idle read buffer grew past this (a big value went through). */
const READ_BUF_KEEP = 64 * 1024;

/** `ip:port`, IPv6 in brackets, as Redis's anetFormatAddr; `?` for an address already gone. */
function formatAddr(ip: string, port: number): string {
  if (ip === '') return `?:${port}`;
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** A client connection. */
export class Connection implements TransportEvents {
  readonly w = new ReplyWriter();
  db = 0;
  name = '';
  libName = '';
  libVer = '';
  private authed: boolean;
  noTouch = false;
  noEvict = false;
  replyMode: ReplyMode = ReplyMode.On;
  /** CLIENT REPLY SKIP ran: skip the reply of the command after this one. */
  skipNext = false;
  readonly createdAtMs = Date.now();
  lastActiveMs = Date.now();
  lastCommand = 'NULL';
  /** Channels, patterns and shard channels subscribed to (CLIENT LIST sub/psub/ssub; pub/sub). */
  sub = 0;
  psub = 0;
  ssub = 0;
  /** Commands queued since MULTI, or -1 outside MULTI (CLIENT LIST multi=; transactions). */
  multi = -1;
  /** Keys WATCHed (transactions; Redis 7.2 prints no watch= field). */
  watch = 0;
  /** The commands queued since MULTI, and the keys WATCHed (commands/transaction.ts). */
  txn: MultiQueue | undefined = undefined;
  watched: WatchSet | undefined = undefined;
  /** The last queue and watch set, kept for the next MULTI and WATCH. */
  spareTxn: MultiQueue | undefined = undefined;
  spareWatch: WatchSet | undefined = undefined;
  /** EXEC is running its queue: core batches run under the locks it holds. */
  private inExec = false;
  /** Blocked in a blocking command (flag b). */
  blocked = false;
  /** The timer of its block's timeout, if it has one (blocking.ts). */
  blockTimer: NodeJS.Timeout | undefined = undefined;
  /** In MONITOR mode (flag O). */
  monitor = false;
  /** CLIENT TRACKING is on (flag t; B with BCAST). */
  tracking = false;
  trackingBcast = false;
  /** CLIENT TRACKING REDIRECT's client (0: none), and the other options (commands/tracking.ts TRACK_*). */
  trackingRedirect = 0;
  trackingOpt = 0;
  /** Held by CLIENT PAUSE: its request waits, unparsed, in rbuf until the pause ends (flag b). */
  paused = false;
  /** Bytes queued since MULTI and whether a queued command may write (clients.ts ClientPause.holds). */
  multiMem = 0;
  multiMayWrite = false;
  /** Closed or closing: no more commands run. */
  closed = false;
  /** Close once the pending replies are written (QUIT, protocol error, CLIENT KILL of self). */
  closeAfterReply = false;
  /** A handler is waiting for an asynchronous answer (e.g. from other workers). */
  private waiting = false;
  /**
   * The client's pending output passed the high-water mark: its input waits, unparsed, in
   * rbuf until the transport says it drained (`onDrain`), so memory stays bounded by what
   * the client reads rather than by what it pipelines.
   */
  private held = false;
  /** Where input resumes once `held` ends, when a batch stopped part-way (-1: after what ran). */
  private resumeAt = -1;
  /** Start of the request being dispatched, in the buffer being run. */
  private frameStart = 0;
  /** Its length, and whether it lies in rbuf (CLIENT LIST qbuf counts it as Redis's query buffer would). */
  private frameLen = 0;
  private frameInRbuf = false;
  /** Since when the output has been over the soft client-output-buffer-limit (0: it is not). */
  softSinceMs = 0;
  /** The error reply being written is one Redis does not count (DEBUG ERROR); see stats.ts. */
  uncountedError = false;
  /**
   * Bytes still to come of a big last argument the transport receives apart (0: none). The
   * request's head waits in rbuf[0, rlen) meanwhile; `onBigArg` runs it.
   */
  private bigLeft = 0;
  /** Where the last `run` stopped inside a request for want of bytes (-1: it did not). */
  private partialAt = -1;

  private parser: RequestParser;
  private readonly req = new Request();
  /** Unparsed bytes carried over between reads; rbuf[0, rlen) is live. */
  private rbuf: Buffer = Buffer.alloc(0);
  private rlen = 0;
  /**
   * The pending core batch, in batch.ts's layout over batchSrc.
   * Starts small and grows with the pipeline: every client holds one, most send one command at a time.
   */
  private batch: Uint32Array = new Uint32Array(64);
  private batchLen = 0;
  private batchSrc: Buffer | undefined;
  /** The pending batch ends in a blocking command (BLPOP...). */
  private batchBlocks = false;
  /**
   * Where each queued command's request starts in batchSrc, to resume a batch cut short. A
   * plain array: it never crosses to Rust, and a typed one was an off-heap allocation per
   * client, a cost every connection of a client that connects per request paid.
   */
  private readonly batchStarts: number[] = [];
  private batchCount = 0;
  /** This client's child logger, made on first use (most clients never log). */
  private childLog: pino.Logger | undefined;

  constructor(
    readonly id: number,
    readonly transport: Transport,
    readonly server: WorkerServer,
  ) {
    this.parser = new RequestParser({ maxBulkLen: server.config['proto-max-bulk-len'] });
    this.authed = false;
    this.authenticated = server.config.requirepass === '';
    transport.attach(this);
    transport.bindClient(id);
  }

  /** The logger with this client's id bound. */
  private get log(): pino.Logger {
    if (this.childLog === undefined) this.childLog = this.server.log.child({ client: this.id });
    return this.childLog;
  }

  /** Its client-output-buffer-limit class, as Redis's getClientType: 2 (pubsub) while subscribed, else 0 (normal). */
  get outputClass(): number {
    return this.sub + this.psub + this.ssub > 0 ? 2 : 0;
  }

  /** Bytes pushed to this client from elsewhere (a Node-socket worker's mail; the ring delivers its own). */
  push(bytes: Buffer): void {
    if (this.closed) return;
    this.transport.write(bytes);
    this.checkOutputLimit();
  }

  /** Become a monitor: every worker's commands reach this client from now on. */
  startMonitor(): void {
    this.monitor = true;
    this.server.addon.monitorAdd(this.id);
    this.server.monitorsChanged(1);
  }

  /** Stop being a monitor (RESET, disconnect). */
  stopMonitor(): void {
    if (!this.monitor) return;
    this.monitor = false;
    this.server.addon.monitorRemove(this.id);
    this.server.monitorsChanged(-1);
  }

  /** Show a command to every monitor, on any worker. */
  private feedMonitors(cmd: Command, argv: Buffer[]): void {
    this.server.addon.monitorFeed(monitorLine(this, cmd, argv));
  }

  /** Pushes took the output past its limit (the ring checked): close as Redis does. */
  onOutputLimit(): void {
    if (this.closed) return;
    this.log.warn(`Client ${this.infoLine()} scheduled to be closed ASAP for overcoming of output buffer limits.`);
    this.destroy();
  }

  /** Invalidations could not reach the REDIRECT client (CLIENT LIST flag R). */
  private get brokenRedirect(): boolean {
    return this.tracking && this.trackingRedirect !== 0 && this.server.addon.trackingState(this.id)?.broken === true;
  }

  /** Remote address as `ip:port`, as CLIENT LIST prints it. */
  get addr(): string {
    return formatAddr(this.transport.remoteAddress, this.transport.remotePort);
  }

  /** Remote IP address alone ('' when the socket is already gone). */
  get remoteAddress(): string {
    return this.transport.remoteAddress;
  }

  /** Local address as `ip:port`. */
  get laddr(): string {
    return formatAddr(this.transport.localAddress, this.transport.localPort);
  }

  /** CONFIG SET proto-max-bulk-len reaches connected clients too, as in Redis. */
  applyLimits(): void {
    const authRequired = this.parser.authRequired;
    this.parser = new RequestParser({ maxBulkLen: this.server.config['proto-max-bulk-len'] });
    this.parser.authRequired = authRequired;
    // A request cut across reads is rescanned from its start under the new limits.
    this.req.reset();
  }

  /** Whether the client may run commands; until then the parser applies Redis 7's unauthenticated limits. */
  get authenticated(): boolean {
    return this.authed;
  }

  set authenticated(yes: boolean) {
    this.authed = yes;
    this.parser.authRequired = !yes;
  }

  /** RESP protocol version spoken with this client. */
  get proto(): 2 | 3 {
    return this.w.proto;
  }

  set proto(p: 2 | 3) {
    this.w.proto = p;
    // Invalidations are framed for the protocol spoken when they are sent.
    if (this.tracking) this.server.addon.trackingSetResp3(this.id, p === 3);
  }

  /**
   * Bytes from the client, `buf[start, end)`; only valid during the call (the transport
   * reuses the buffer). A client with nothing held back has its requests run where they lie,
   * with no view made of the range (one Buffer per read was most of a worker's garbage at
   * -P 1); any other state goes through `take`.
   */
  onData(buf: Buffer, start: number, end: number): void {
    this.server.noteInput(end - start);
    if (this.closed) return;
    this.lastActiveMs = Date.now();
    if (this.bigLeft === 0 && this.rlen === 0 && !this.waiting && !this.held) this.runRead(buf, start, end);
    else this.take(start === 0 && end === buf.length ? buf : buf.subarray(start, end));
  }

  /** Run, hold or pass on the client's next bytes, whatever state the last ones left. */
  private take(chunk: Buffer): void {
    let bytes = chunk;
    if (this.bigLeft > 0) {
      // Read in the same turn as the bytes that began the big argument, before the
      // transport knew: they are its next bytes, and what follows them is new input.
      const took = this.transport.bigArgFeed(bytes);
      this.bigLeft -= took;
      if (took === 0) {
        this.log.error('big argument lost by the transport; closing client');
        this.destroy();
        return;
      }
      if (this.bigLeft > 0) return;
      this.onBigArg();
      if (took >= bytes.length || this.closed) return;
      bytes = bytes.subarray(took);
    }
    if (this.waiting || this.held) {
      this.append(bytes);
      this.checkQueryLimit();
      return;
    }
    try {
      let from = 0;
      if (this.rlen > 0) {
        from = this.completePending(bytes);
        if (from < bytes.length && !this.closed && (this.rlen > 0 || this.bigLeft > 0 || this.waiting || this.held)) {
          // The request ran and changed the client's state: the rest goes by that state.
          this.take(bytes.subarray(from));
          return;
        }
      }
      if (from < bytes.length && !this.closed) this.runRead(bytes, from, bytes.length);
      else {
        this.checkQueryLimit();
        this.flush();
      }
    } catch (err) {
      // A bug, not client input: log it and drop only this client.
      this.log.error({ err }, 'closing client after an internal error');
      this.destroy();
    }
  }

  /** Run the requests in buf[from, end); keep what is left of it (a partial request) for later. */
  private runRead(buf: Buffer, from: number, end: number): void {
    try {
      const pos = this.run(buf, from, end);
      if (pos < end && !this.bigArgFrom(buf, pos, end)) this.append(buf.subarray(pos, end));
      this.checkQueryLimit();
      this.flush();
    } catch (err) {
      // A bug, not client input: log it and drop only this client.
      this.log.error({ err }, 'closing client after an internal error');
      this.destroy();
    }
  }

  /**
   * Complete the request that rbuf holds the start of with as few of `bytes` as it needs, and
   * run it; returns how many of `bytes` were taken. What follows the request is then parsed
   * where it lies (a pipeline of 16 KiB SETs copied every 64 KiB read into rbuf, and grew rbuf
   * past what it keeps, for the one request cut at the read's start).
   */
  private completePending(bytes: Buffer): number {
    const req = this.req;
    let at = 0;
    let step = PENDING_STEP;
    while (at < bytes.length) {
      // Inside a bulk argument the parser knows the bytes the request needs at least; in a
      // header line (or an inline request), a step that doubles, so a long line is not
      // scanned once per header's worth.
      let need = req.pendingNeed - this.rlen;
      if (need <= 0) {
        need = step;
        step *= 2;
      }
      const take = Math.min(need, bytes.length - at);
      this.append(bytes.subarray(at, at + take));
      at += take;
      const ran = this.consume();
      if (this.closed || this.bigLeft > 0 || this.waiting || this.held) return at;
      if (ran > 0 && this.rlen > 0 && this.rlen <= at) {
        // The held request ran, and a new one started in what this call appended after it:
        // give those bytes back, to be parsed where they lie (the parser forgets them).
        at -= this.rlen;
        this.rlen = 0;
        req.reset();
      }
      if (this.rlen === 0) return at;
    }
    return at;
  }

  /** Parse and run what rbuf holds, keeping the unparsed tail; returns the bytes run. */
  private consume(): number {
    const pos = this.run(this.rbuf, 0, this.rlen);
    if (pos === this.rlen) {
      this.rlen = 0;
      if (this.rbuf.length > READ_BUF_KEEP) {
        const size = this.rbuf.length;
        this.rbuf = Buffer.alloc(0);
        // The parsed request still points into the buffer; nothing is pending, so let go.
        this.req.reset();
        this.server.releasedBuffer(size);
      }
    } else if (this.bigArgFrom(this.rbuf, pos, this.rlen)) {
      // The big argument's bytes left rbuf; its request's head stays.
    } else if (pos > 0) {
      this.rbuf.copyWithin(0, pos, this.rlen);
      this.rlen -= pos;
    }
    return pos;
  }

  private append(bytes: Buffer): void {
    const need = this.rlen + bytes.length;
    if (need > this.rbuf.length) {
      // A big argument on its way (the held bytes start at its request): one buffer of the
      // size the request declared, as Redis allocates past 32 KB, instead of doubling, so a
      // 600 MB value costs 600 MB here and is copied into this buffer once.
      const declared = this.req.pendingNeed;
      const sized = declared > BIG_ARG && declared >= need && !this.waiting && !this.held && this.bigLeft === 0;
      const size = sized ? declared : Math.max(need, this.rbuf.length * 2, 16 * 1024);
      const next = Buffer.allocUnsafe(size);
      this.rbuf.copy(next, 0, 0, this.rlen);
      this.rbuf = next;
    }
    bytes.copy(this.rbuf, this.rlen);
    this.rlen = need;
  }

  private checkQueryLimit(): void {
    if (this.rlen > this.server.config['client-query-buffer-limit']) {
      // Redis closes such a client without a reply (networking.c, "closing client that reached max query buffer length").
      this.log.warn({ qbuf: this.rlen }, 'closing client that reached max query buffer length');
      this.destroy();
    }
  }

  /**
   * When the request at src[at, end) waits for the rest of a big last argument, have the
   * transport receive that argument apart and keep only the request's head in rbuf: with
   * io_uring the bytes then go straight into the buffer the core keeps as the value, so a
   * 600 MB SET costs 600 MB once and no copy of it holds this worker up. Only for a command
   * that runs in the core (TypeScript commands read their arguments here), and not past
   * client-query-buffer-limit, which the usual path enforces as the bytes come, as Redis.
   */
  private bigArgFrom(src: Buffer, at: number, end: number): boolean {
    const req = this.req;
    // While CLIENT PAUSE is on, a request may have to wait: it stays whole in rbuf. Inside
    // MULTI the request is queued, and the queue keeps copies of plain requests.
    if (
      !this.transport.bigArgs ||
      this.partialAt !== at ||
      this.held ||
      this.waiting ||
      this.closeAfterReply ||
      this.closed ||
      this.server.pause.engaged ||
      this.multi >= 0
    ) {
      return false;
    }
    const need = req.pendingNeed;
    const head = req.pendingData;
    const len = need - head - 2;
    const last = req.pendingArgc - 1;
    if (len <= BIG_ARG || last < 1 || req.pendingDone !== last) return false;
    if (need > this.server.config['client-query-buffer-limit']) return false;
    const cmd = this.server.commandIndex.get(src, req.starts[0] as number, req.ends[0] as number);
    if (cmd === undefined || cmd.op < 0 || cmd.subcommands !== undefined) return false;
    this.transport.bigArgBegin(len, src.subarray(at + head, end));
    this.bigLeft = need - (end - at);
    if (src === this.rbuf) {
      this.rbuf.copyWithin(0, at, at + head);
      this.rlen = head;
    } else {
      this.append(src.subarray(at, at + head));
    }
    return true;
  }

  /**
   * The transport holds the whole big argument (`bigArgFrom`): run its request, the head
   * parsed again from rbuf (under the limits in force now) and the last argument named by
   * BIG_ARG_MARK for the core. Whatever the core did not keep of it is freed here.
   */
  onBigArg(): void {
    this.bigLeft = 0;
    if (this.closed) {
      this.transport.bigArgDrop();
      return;
    }
    const req = this.req;
    try {
      req.reset();
      this.frameStart = 0;
      try {
        this.parser.parse(this.rbuf.subarray(0, this.rlen), 0, req);
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
        this.w.error(e.reply);
        this.server.stats.error(e.reply);
        this.closeAfterReply = true;
      }
      if (!this.closeAfterReply) {
        const last = req.pendingArgc - 1;
        if (req.pendingNeed === 0 || req.pendingData !== this.rlen || req.pendingDone !== last) {
          throw new Error('big argument without its request');
        }
        req.argc = req.pendingArgc;
        req.src = this.rbuf;
        req.starts[last] = BIG_ARG_MARK;
        req.ends[last] = BIG_ARG_MARK;
        this.dispatch(req);
        this.flushBatch();
        this.txn?.settle();
      }
      req.reset();
      this.rlen = 0;
      this.transport.bigArgDrop();
      if (this.rbuf.length > READ_BUF_KEEP) {
        const size = this.rbuf.length;
        this.rbuf = Buffer.alloc(0);
        this.server.releasedBuffer(size);
      }
      this.flush();
    } catch (err) {
      this.log.error({ err }, 'closing client after an internal error');
      this.destroy();
    }
  }

  /** Run every whole request in buf[pos, end); returns the offset of the first byte not consumed. */
  private run(buf: Buffer, pos: number, end: number = buf.length): number {
    const req = this.req;
    this.partialAt = -1;
    this.server.stats.restartClock();
    while (!this.waiting && !this.closeAfterReply && !this.closed && !this.held) {
      let next: number;
      this.frameStart = pos;
      try {
        next = this.parser.parse(buf, pos, req, end);
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
        // Held back: the bad request is parsed again, and answered, once the output drained.
        if (!this.flushBefore()) break;
        this.w.error(e.reply);
        this.server.stats.error(e.reply);
        this.closeAfterReply = true;
        this.log.debug({ reply: e.reply }, 'protocol error');
        this.txn?.settle();
        return end;
      }
      if (next < 0) {
        this.partialAt = pos;
        break;
      }
      this.frameLen = next - pos;
      this.frameInRbuf = buf === this.rbuf;
      pos = next;
      if (req.argc > 0) this.dispatch(req);
    }
    this.flushBatch();
    // A transaction still open keeps what it queued from this read: the buffer is reused.
    this.txn?.settle();
    if (this.resumeAt >= 0) {
      pos = this.resumeAt;
      this.resumeAt = -1;
    }
    return this.closeAfterReply ? end : pos;
  }

  /**
   * Run the queued core commands before a reply written here, so replies keep their order.
   * False when the client is now held back for its output: the current request then waits
   * (unanswered, unparsed) until the output drains.
   */
  private flushBefore(): boolean {
    this.flushBatch();
    if (!this.held) return true;
    if (this.resumeAt < 0) this.resumeAt = this.frameStart;
    return false;
  }

  /**
   * Run one request, honouring CLIENT REPLY OFF/SKIP, which drop every reply (errors too).
   * SKIP works as Redis's CLIENT_REPLY_SKIP_NEXT: it takes effect after the command that set it.
   */
  private dispatch(req: Request): void {
    if (this.replyMode === ReplyMode.On) this.execute(req);
    else {
      if (!this.flushBefore()) return;
      const mark = this.w.length;
      this.execute(req);
      // Held by CLIENT PAUSE: it runs, and is answered or not, when the pause ends.
      if (this.paused) return;
      this.flushBatch();
      // CLIENT REPLY ON turned replies back on before writing its +OK; everything else is dropped.
      if ((this.replyMode as ReplyMode) !== ReplyMode.On) this.w.truncate(mark);
      if ((this.replyMode as ReplyMode) === ReplyMode.Skip) this.replyMode = ReplyMode.On;
    }
    if (this.skipNext) {
      this.skipNext = false;
      this.replyMode = ReplyMode.Skip;
    }
  }

  /**
   * lookup -> arity -> auth -> core batch or TypeScript handler, as Redis's processCommand.
   */
  private execute(req: Request): void {
    const src = req.src;
    let cmd = this.server.commandIndex.get(src, req.starts[0] as number, req.ends[0] as number);
    if (cmd === undefined) {
      const name = src.toString('latin1', req.starts[0], req.ends[0]);
      if (isHttpCommand(name)) {
        // Commands before it in this read still run, as in Redis; their replies are dropped with the connection.
        this.flushBatch();
        warnCrossProtocol(this.log, this.transport.remoteAddress, this.transport.remotePort);
        this.destroy();
        return;
      }
      this.lastCommand = 'NULL';
      this.reject(unknownCommand(name, this.argStrings(req, 1)), undefined);
      return;
    }
    if (cmd.subcommands !== undefined && req.argc >= 2) {
      const subName = src.toString('latin1', req.starts[1], req.ends[1]);
      const sub = cmd.subcommands.get(subName.toLowerCase());
      if (sub === undefined) {
        this.lastCommand = 'NULL';
        this.reject(unknownSubcommand(cmd.name, subName), undefined);
        return;
      }
      cmd = sub;
    }
    // Redis sets lastcmd at lookup: CLIENT LIST names a command refused for its arity or auth too.
    this.lastCommand = cmd.name;
    const arity = cmd.arity;
    if ((arity > 0 && req.argc !== arity) || req.argc < -arity) {
      this.reject(wrongArity(cmd.name), cmd);
      return;
    }
    if (!this.authenticated && !cmd.noAuth) {
      this.reject(NOAUTH.toString('latin1', 1, NOAUTH.length - 2), cmd);
      return;
    }
    // A monitor is a replica to Redis, and replicas may not touch the keyspace (processCommand).
    if (this.monitor && touchesKeyspace(cmd)) {
      this.reject(REPLICA_KEYSPACE, cmd);
      return;
    }
    if (this.sub + this.psub + this.ssub > 0) {
      const err = subscribedModeError(this, cmd.name);
      if (err !== undefined) {
        this.reject(err, cmd);
        return;
      }
    }
    // CLIENT PAUSE (server.c processCommand), after the lookup, arity and auth errors it does not hold.
    if (
      (this.multi >= 0 || this.multiMem !== 0 || this.server.pause.engaged) &&
      this.server.pause.holds(this, cmd, req) &&
      req.starts[req.argc - 1] !== BIG_ARG_MARK
    ) {
      this.postpone();
      return;
    }
    if (this.multi >= 0) {
      if (!this.flushBefore()) return;
      if (queueInMulti(this, cmd, req)) return;
    }
    // Redis feeds monitors after the command ran (call()): a RESET's monitor misses its own line.
    if (cmd.op >= 0) {
      if (!cmd.skipMonitor && this.server.monitoring) this.feedMonitors(cmd, req.argv());
      this.queue(cmd, req);
      // A command that may block ends its batch: what follows waits if it blocks.
      if (cmd.blocks) {
        this.batchBlocks = true;
        this.flushBatch();
      }
    } else {
      if (!this.flushBefore()) return;
      this.server.commandsProcessed++;
      const monitored = !cmd.skipMonitor && this.server.monitoring;
      const argv = cmd.takesArgv || monitored ? req.argv() : NO_ARGV;
      this.server.stats.call(this, cmd, argv);
      if (monitored) this.feedMonitors(cmd, argv);
    }
    if ((this.trackingOpt & TRACK_CACHING) !== 0) this.afterCaching(cmd);
  }

  /**
   * CLIENT CACHING applies to the next command only (or the next transaction), as Redis's
   * resetClient clears it after any command but CLIENT's outside MULTI: a core command runs
   * alone in its batch, under the flag, and the flag goes.
   */
  private afterCaching(cmd: Command | undefined): void {
    if (cmd !== undefined && cmd.op >= 0) this.flushBatch();
    // A refused command counts too (Redis resets the client after it as well).
    if (this.multi < 0 && !cmd?.name.startsWith('client|')) this.trackingOpt &= ~TRACK_CACHING;
  }

  /**
   * The batch flag telling the core to remember the keys read (tracking.c
   * trackingRememberKeys): default-mode tracking, unless OPTIN without CLIENT CACHING yes
   * or OPTOUT with CLIENT CACHING no.
   */
  get trackFlag(): number {
    if (!this.tracking || this.trackingBcast) return 0;
    const caching = (this.trackingOpt & TRACK_CACHING) !== 0;
    if ((this.trackingOpt & TRACK_OPTIN) !== 0 && !caching) return 0;
    if ((this.trackingOpt & TRACK_OPTOUT) !== 0 && caching) return 0;
    return FLAG_TRACK;
  }

  /** Hold the request being dispatched until CLIENT PAUSE ends (Redis's blockPostponeClient). */
  private postpone(): void {
    if (!this.flushBefore()) return;
    this.resumeAt = this.frameStart;
    this.waiting = true;
    this.paused = true;
    this.server.pause.hold(this);
  }

  /** CLIENT PAUSE ended: run the held request, and what came after it. */
  unpause(): void {
    if (!this.paused) return;
    this.paused = false;
    this.waiting = false;
    this.lastActiveMs = Date.now();
    if (!this.held) this.runWaitingInput();
  }

  /** Refuse a command before it runs (Redis's rejectCommand); inside MULTI, EXEC will abort. */
  private reject(text: string, cmd: Command | undefined): void {
    if (!this.flushBefore()) return;
    const reply = cmd?.name === 'exec' ? execAborted(this, text) : text;
    flagTransaction(this);
    this.w.error(reply);
    this.server.stats.rejected(cmd, reply);
    if ((this.trackingOpt & TRACK_CACHING) !== 0) this.afterCaching(cmd);
  }

  /** Add a core command to the pending batch (a batch runs over one source buffer). */
  private queue(cmd: Command, req: Request): void {
    if (this.batchSrc !== req.src && this.batchLen > 0) this.flushBatch();
    this.batchSrc = req.src;
    this.batchStarts[this.batchCount++] = this.frameStart;
    this.server.commandsProcessed++;
    this.batch = writeCommand(this.batch, this.batchLen, cmd.op, req);
    this.batchLen += commandWords(req.argc);
  }

  /** The batch flags this client's state sets (protocol, CLIENT NO-TOUCH, REPLY, TRACKING). */
  private coreFlags(): number {
    return (
      (this.noTouch ? FLAG_NO_TOUCH : 0) |
      (this.w.proto === 3 ? FLAG_RESP3 : 0) |
      (this.replyMode !== ReplyMode.On ? FLAG_DISCARD : 0) |
      (this.tracking ? this.trackFlag : 0)
    );
  }

  /**
   * Send the pending core batch to Rust in one call; the core writes the replies straight to
   * the client, after the replies written here before them. If the client's output passed
   * the high-water mark part-way, the rest of the batch waits for `onDrain` (resumeAt).
   */
  private flushBatch(extraFlags = 0): void {
    if (this.batchLen === 0 || this.batchSrc === undefined) return;
    // Nothing blocks inside EXEC (Redis's CLIENT_DENY_BLOCKING): it answers as a timeout would.
    const mayBlock = this.batchBlocks && this.multi < 0 && !this.inExec && extraFlags === 0;
    const flags = this.coreFlags() | (mayBlock ? FLAG_MAY_BLOCK : 0) | (this.inExec ? FLAG_EXEC : 0) | extraFlags;
    const count = this.batchCount;
    // Whole arrays and a length cross, not subarrays: no typed-array object per call. The
    // replies written here go first, in the same call (what writeOut would send).
    const w = this.w;
    let r: number;
    if (w.length === 0) r = this.transport.runCore(this.batchSrc, this.batch, this.batchLen, this.db, flags, count);
    else {
      r = this.transport.runCore(this.batchSrc, this.batch, this.batchLen, this.db, flags, count, w.slab, w.pending, w.end);
      w.taken();
    }
    this.server.stats.restartClock();
    this.batchLen = 0;
    this.batchCount = 0;
    this.batchSrc = undefined;
    this.batchBlocks = false;
    if (mayBlock) {
      const timeoutMs = this.server.addon.lastBlock();
      if (timeoutMs >= 0) this.server.blocking.blocked(this, timeoutMs);
    }
    const ran = (r & ~OUTPUT_OVER) >>> 0;
    if (ran < count) {
      // Commands that did not run were counted when queued; they count again when they do.
      this.server.commandsProcessed -= count - ran;
      this.resumeAt = this.batchStarts[ran] as number;
    }
    if ((r & OUTPUT_OVER) !== 0 || ran < count) this.held = true;
    this.checkOutputLimit();
  }

  /**
   * EXEC (commands/transaction.ts) runs its queue, under the locks it took, in this one
   * turn: core commands join the batch, which runs under those locks, and TypeScript
   * commands run in between, so replies keep queue order. Nothing waits for the output.
   */
  beginExec(): void {
    this.inExec = true;
    // EXEC may have waited for commands that run before it; the connection's own input
    // still waits (it runs on `resume`), but the queue's commands must not look suspended.
    this.waiting = false;
  }

  /**
   * EXEC is running its queue: a blocking command must not block (Redis's
   * CLIENT_DENY_BLOCKING), it answers as if its timeout had passed.
   */
  get denyBlocking(): boolean {
    return this.inExec;
  }

  /** Run one queued command of the EXEC in progress. */
  runInExec(cmd: Command, req: Request): void {
    // Monitors see each command EXEC runs, as Redis's call() feeds them (queueing did not).
    if (cmd.op >= 0) {
      if (!cmd.skipMonitor && this.server.monitoring) this.feedMonitors(cmd, req.argv());
      this.queue(cmd, req);
      return;
    }
    this.flushBatch();
    this.server.commandsProcessed++;
    this.lastCommand = cmd.name;
    const monitored = !cmd.skipMonitor && this.server.monitoring;
    const argv = cmd.takesArgv || monitored ? req.argv() : NO_ARGV;
    this.server.stats.call(this, cmd, argv);
    if (monitored) this.feedMonitors(cmd, argv);
    // A command that waits on other workers cannot while EXEC holds locks (RUN_BEFORE_EXEC).
    if (this.waiting) throw new Error(`${cmd.name} waited inside EXEC`);
  }

  /**
   * Run a whole EXEC queue of core commands (`batch[..len]` over `src`, `count` of them,
   * the last named `last`) as one batch, without copying it into this connection's own;
   * `flags` adds FLAG_EXEC_END or FLAG_UNIT.
   */
  runBatchInExec(src: Buffer, batch: Uint32Array, len: number, count: number, last: string, flags: number): void {
    this.flushBatch();
    const own = this.batch;
    this.batch = batch;
    this.batchLen = len;
    this.batchSrc = src;
    this.batchCount = count;
    this.server.commandsProcessed += count;
    this.lastCommand = last;
    try {
      this.flushBatch(flags);
    } finally {
      this.batch = own;
    }
  }

  /**
   * Run a whole EXEC queue of core commands with keys watched (`watch[..watchLen]` over
   * `watchBuf`) in one call to the transport, which takes the locks, checks the watches and
   * answers the array or the null array itself (Transport.execWatched). False, having done
   * nothing, where that call is not to be had: Node sockets; a monitor, which must see the
   * commands only if they run; CLIENT REPLY OFF/SKIP, whose replies are dropped here.
   */
  execWatched(
    src: Buffer,
    batch: Uint32Array,
    len: number,
    count: number,
    last: string,
    watchBuf: Buffer,
    watch: Uint32Array,
    watchLen: number,
  ): boolean {
    const t = this.transport;
    if (t.execWatched === undefined || this.server.monitoring || this.replyMode !== ReplyMode.On) return false;
    this.flushBatch();
    const w = this.w;
    const r = t.execWatched(src, batch, len, this.db, this.coreFlags(), w.slab, w.pending, w.end, watchBuf, watch, watchLen);
    w.taken();
    this.server.stats.restartClock();
    if ((r & WATCH_FAILED) === 0) {
      this.server.commandsProcessed += count;
      this.lastCommand = last;
    }
    if ((r & OUTPUT_OVER) !== 0) this.held = true;
    this.checkOutputLimit();
    return true;
  }

  /** Show a command EXEC runs in one batch to the monitors (runBatchInExec). */
  feedInExec(cmd: Command, req: Request): void {
    if (!cmd.skipMonitor && this.server.monitoring) this.feedMonitors(cmd, req.argv());
  }

  /** A reply of the EXEC in progress that was computed before it (RUN_BEFORE_EXEC). */
  writeInExec(reply: Buffer): void {
    this.flushBatch();
    this.w.raw(reply);
  }

  /** Run the core commands of the EXEC in progress still in the batch. */
  flushExec(): void {
    this.flushBatch();
  }

  /** The EXEC is over (its locks are released right after). */
  endExec(): void {
    this.inExec = false;
    this.batchLen = 0;
    this.batchCount = 0;
    this.batchSrc = undefined;
  }

  /** Hand the replies written here to the transport. */
  private writeOut(): void {
    const w = this.w;
    if (w.length === 0) return;
    // The transport copies or keeps the range; no slice object is made for it here.
    const over = this.transport.write(w.slab, w.pending, w.end);
    w.taken();
    if (over) this.held = true;
    this.checkOutputLimit();
  }

  /** Write out what the reply buffer holds; close afterwards if asked to. */
  flush(): void {
    if (this.closed) return;
    this.writeOut();
    if (this.closeAfterReply && !this.closed) {
      this.closed = true;
      this.transport.end();
    }
  }

  /**
   * client-output-buffer-limit of the client's class (Redis's checkClientOutputBufferLimits):
   * over the hard limit, or over the soft one for longer than its seconds, the client is
   * closed. With 0 0 0 (the normal class's default) nothing is checked and nothing is asked of the
   * transport. Redis checks as output is added; a client held back adds none, so the worker
   * also checks those over the soft limit on its timer.
   */
  checkOutputLimit(): void {
    const limits = this.server.config['client-output-buffer-limit'];
    const at = this.outputClass * 3;
    const hard = limits[at] ?? 0;
    const soft = limits[at + 1] ?? 0;
    const softSec = limits[at + 2] ?? 0;
    if (hard === 0 && soft === 0) return;
    const pending = this.transport.outputUse()[0] ?? 0;
    const now = Date.now();
    let over = hard > 0 && pending >= hard;
    if (soft > 0 && pending >= soft) {
      if (this.softSinceMs === 0) this.softSinceMs = now;
      else if (now - this.softSinceMs >= softSec * 1000) over = true;
    } else this.softSinceMs = 0;
    if (over) this.onOutputLimit();
  }

  /** The transport drained the output this client was held back for: run the input that waited. */
  onDrain(): void {
    if (!this.held) return;
    this.held = false;
    if (!this.waiting) this.runWaitingInput();
  }

  /** Run the input that arrived while the client was suspended or held back, and flush. */
  private runWaitingInput(): void {
    if (this.closed) return;
    try {
      if (this.rlen > 0) this.consume();
      this.flush();
    } catch (err) {
      this.log.error({ err }, 'closing client after an internal error');
      this.destroy();
    }
  }

  /**
   * Pause the pipeline while a handler waits for an asynchronous answer: later requests stay
   * queued so that replies keep their order. The handler calls `resume` after writing its reply.
   */
  suspend(): void {
    this.waiting = true;
  }

  /** Between suspend and resume. */
  get suspended(): boolean {
    return this.waiting;
  }

  /** Resume after `suspend`: flush the reply and run what arrived meanwhile. */
  resume(): void {
    this.waiting = false;
    // Its reply goes out now: Redis counts a write as an interaction (CLIENT LIST idle, `timeout`).
    this.lastActiveMs = Date.now();
    this.server.stats.resumed(this);
    if (!this.held) this.runWaitingInput();
  }

  /**
   * The reply that ends this client's block (blocking.ts): write it, then run what waited.
   * Empty when the ring has queued it already (uring.rs `reply_direct`).
   */
  unblocked(bytes: Buffer): void {
    if (this.replyMode === ReplyMode.On && bytes.length > 0) this.push(bytes);
    this.resume();
  }

  /** Close now, dropping unsent replies (CLIENT KILL, limits). */
  destroy(): void {
    this.closed = true;
    this.transport.destroy();
  }

  /** The transport is gone (peer closed, reset, or our own close finished). */
  onClose(): void {
    this.closed = true;
    disableTracking(this);
    this.stopMonitor();
    unsubscribeAllQuietly(this);
    // Gone in the middle of a big argument: its buffer goes now, not with the slot's next client.
    if (this.bigLeft > 0) this.transport.bigArgDrop();
    this.server.removeConnection(this);
  }

  /**
   * Flag `d` (CLIENT_DIRTY_CAS): a watched key changed, so EXEC will fail. Redis marks the
   * client when the key is touched; here the watches are checked when asked (never inside
   * this client's own EXEC, whose locks this thread holds).
   */
  private watchDirty(): boolean {
    return this.watch > 0 && !this.inExec && !watchesHold(this);
  }

  private argStrings(req: Request, from: number): string[] {
    const out: string[] = [];
    for (let i = from; i < req.argc; i++) out.push(req.src.toString('latin1', req.starts[i], req.ends[i]));
    return out;
  }

  /**
   * This client's CLIENT LIST / CLIENT INFO line, fields as Redis 7.2 prints them
   * (networking.c catClientInfoString). `current`: the client is running the command asking.
   */
  infoLine(current = false): string {
    const now = Date.now();
    // Redis's letter order; a paused client is blocked (BLOCKED_POSTPONE).
    const flags =
      `${this.monitor ? 'O' : ''}${this.sub + this.psub + this.ssub > 0 ? 'P' : ''}${this.multi >= 0 ? 'x' : ''}` +
        `${this.blocked || this.paused ? 'b' : ''}${this.tracking ? 't' : ''}${this.brokenRedirect ? 'R' : ''}${this.trackingBcast ? 'B' : ''}` +
        `${this.watchDirty() ? 'd' : ''}${this.closeAfterReply ? 'c' : ''}${this.noEvict ? 'e' : ''}${this.noTouch ? 'T' : ''}` || 'N';
    const fd = this.transport.fd;
    const [omem = 0, oll = 0, oalloc = 0] = this.transport.outputUse();
    const [bigHeld = 0, bigAlloc = 0] = this.bigArgUse();
    // Mid-command (running, or waiting on other workers or a pause), as Redis keeps argv and the request's bytes.
    const mid = current || this.waiting;
    const argvMem = mid ? argvBytes(this.req) : 0;
    // Redis's query buffer holds the request being run; a paused one was parsed out of it into argv.
    let qbuf = this.rlen + bigHeld;
    if (this.paused) qbuf -= this.frameLen;
    else if (mid && !(current && this.frameInRbuf)) qbuf += this.frameLen;
    const qbufFree = Math.max(0, this.rbuf.length - this.rlen);
    const multiMem = this.multi >= 0 ? this.multiMem : 0;
    const nowSec = unixSec(now);
    // rbs/rbp: the reply buffers held (Shrike has no fixed per-client buffer; obl, its fill, stays 0).
    return (
      `id=${this.id} addr=${this.addr} laddr=${this.laddr} fd=${fd} name=${this.name} ` +
      `age=${nowSec - unixSec(this.createdAtMs)} idle=${nowSec - unixSec(this.lastActiveMs)} ` +
      `flags=${flags} db=${this.db} sub=${this.sub} psub=${this.psub} ssub=${this.ssub} multi=${this.multi} qbuf=${qbuf} qbuf-free=${qbufFree} ` +
      `argv-mem=${argvMem} multi-mem=${multiMem} rbs=${oalloc} rbp=${oalloc} obl=0 oll=${oll} omem=${omem} ` +
      `tot-mem=${this.rbuf.length + bigAlloc + oalloc + argvMem + multiMem} ` +
      `events=${this.held ? 'w' : omem > 0 ? 'rw' : 'r'} cmd=${this.lastCommand} ` +
      `user=default redir=${this.tracking ? this.trackingRedirect : -1} resp=${this.proto} lib-name=${this.libName} lib-ver=${this.libVer}`
    );
  }

  /**
   * Bytes this client holds here: its query buffer, and on Node sockets its pending output
   * (the ring reports its clients' output buffers itself, in one call).
   */
  memoryUse(): number {
    const big = this.bigArgUse()[1] ?? 0;
    return this.rbuf.length + big + (this.transport instanceof NetTransport ? (this.transport.outputUse()[2] ?? 0) : 0);
  }

  /** Bytes of unparsed input held (CLIENT LIST qbuf), a big argument received apart included. */
  get queryBufferLength(): number {
    return this.rlen + (this.bigArgUse()[0] ?? 0);
  }

  /** `[received, allocated]` of a big argument the transport receives apart. */
  private bigArgUse(): readonly number[] {
    return this.bigLeft > 0 ? this.transport.bigArgUse() : NO_BIG_ARG;
  }
}
