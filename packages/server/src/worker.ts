/**
 * A worker thread: pins itself to its CPU, opens its own SO_REUSEPORT listening socket(s) on
 * the configured address, and owns the connections the kernel gives it. It answers the hub's
 * questions about its clients and applies CONFIG SET changes that reach it.
 */
import { createServer, type Server, Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type pino from 'pino';
import { BlockedClients } from './blocking';
import { ClientPause, ClientTable, closeIdle, killClients, listClients } from './clients';
import { buildTable, COMMAND_NAMES, type CommandTable, NameIndex } from './commands/table';
import { deliverRedirected } from './commands/tracking';
import type { Command } from './commands/types';
import { applyParam, type Config } from './config';
import { Connection } from './connection';
import { type Addon, configureKeyspace, loadAddon } from './core';
import { MAX_CLIENTS, PROTECTED_MODE } from './errors';
import { createLogger, pinoLevel } from './log';
import { eachMail, MAIL_PUSH, MAIL_REPLY, MAIL_TRACKING_REDIRECT, MAIL_YIELD } from './mail';
import { RateMeter } from './rates';
import { type Ask, THREAD_STRIDE, ThreadSlot, type ToMain, type ToWorker, type WorkerData } from './shared';
import { WorkerStats } from './stats';
import { isLoopback, NetTransport, type Transport } from './transport';
import { type UringHost, UringLoop } from './uring';

/** A dropped read buffer this big is worth a collection of its own (see releasedBuffer). */
const BIG_BUFFER = 64 * 1024 * 1024;

/** V8's full collection, exposed to this worker only (used for big freed buffers alone). */
const collectGarbage: (() => void) | undefined = (() => {
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
})();

/** Submission queue size of a worker's ring: room for a read and a write per client per turn before a mid-turn submit. */
const RING_ENTRIES = 4096;
/** Closed clients after which the C heap's free pages go back to the OS, at most once per TRIM_INTERVAL_MS. */
const TRIM_AFTER_CLOSES = 256;
const TRIM_INTERVAL_MS = 1000;
/** Bytes in and out after which the first quiet moment hands the C heap's free pages back (releaseMemory). */
const TRIM_AFTER_BYTES = 8 * 1024 * 1024;
/**
 * A 100 ms sample that moves this many bytes, at least BUSY_BYTES_PER_COMMAND a command, is a
 * burst of big values, which puts off handing memory back (alloc.rs sampleMemoryUse, which
 * also counts big blocks freed): the big buffers it freed are wanted again by the next. Loads
 * of small values (1 M keys, lists by RPUSH of 500) leave small holes between live blocks,
 * taken back at once: put off, they kept 8-20 MB over what the data needs for the delay.
 */
const BUSY_BYTES = 1024 * 1024;
const BUSY_BYTES_PER_COMMAND = 16 * 1024;

/** One worker's server: its config copy, command table, connections and counters. */
export class WorkerServer implements UringHost {
  readonly config: Config;
  readonly addon: Addon;
  readonly table: CommandTable;
  /** The table by request bytes, for dispatch. */
  readonly commandIndex: NameIndex<Command>;
  /** This worker's connections, by CLIENT ID (mail names its client by id). */
  readonly clients = new ClientTable();
  readonly log: pino.Logger;
  readonly index: number;
  readonly startedAtMs: number;
  commandsProcessed = 0;
  /** INFO commandstats / errorstats counters of this worker. */
  readonly stats: WorkerStats;
  /** This worker's clients blocked in BLPOP and the like. */
  readonly blocking: BlockedClients;
  /** CLIENT PAUSE, shared by every worker; holds this worker's paused clients. */
  readonly pause: ClientPause;
  private connectionsReceived = 0;
  private rejected = 0;
  /** A listener takes clients from outside the host (a bind address that is not loopback). */
  private bindsOutside = false;
  private closedSinceTrim = 0;
  private lastTrimMs = 0;
  /** Bytes in and out at the last burst trim and at the last sample, and commandsProcessed at the last sample. */
  private trafficAtTrim = 0;
  private trafficAtSample = 0;
  /** Bytes in and out when the ring's read pool last rested. */
  private trafficAtRest = 0;
  private commandsAtSample = 0;
  /** connectionsReceived at the last sample (releaseMemory). */
  private acceptsAtSample = 0;
  private netInput = 0;
  private netOutput = 0;
  private readonly row: Float64Array;
  private readonly allRows: Float64Array;
  private readonly ids: BigInt64Array;
  private readonly clientCount: Int32Array;
  private readonly servers: Server[] = [];
  private readonly asks = new Map<number, (results: readonly unknown[]) => void>();
  private nextAsk = 1;
  private statsTimer: NodeJS.Timeout | undefined;
  private readonly opsRate = new RateMeter();
  private readonly inputRate = new RateMeter();
  private readonly outputRate = new RateMeter();
  private uring: UringLoop | undefined;
  private gcPending = false;

  constructor(data: WorkerData) {
    this.index = data.index;
    this.startedAtMs = data.startedAtMs;
    this.config = { ...data.config, bind: [...data.config.bind] };
    this.log = createLogger(pinoLevel(this.config.loglevel), this.config.logfile, 'shrike').child({ worker: data.index });
    this.addon = loadAddon();
    const ops = this.addon.initKeyspace(this.config.databases, this.config.segments);
    configureKeyspace(this.addon, this.config);
    this.table = buildTable(ops);
    this.stats = new WorkerStats(data.shared.commandStats, data.index, COMMAND_NAMES, this.addon);
    this.blocking = new BlockedClients(this.addon);
    this.commandIndex = new NameIndex(this.table);
    this.pause = new ClientPause(data.shared.pause, data.index, (untilMs) => this.addon.pauseActiveExpiry(untilMs));
    this.addon.startActiveExpiry();
    // A restarted worker's clients are gone: nothing may stay subscribed in their name.
    this.addon.pubsubDropWorker(this.index);
    this.allRows = new Float64Array(data.shared.threads);
    this.row = this.allRows.subarray(data.index * THREAD_STRIDE, (data.index + 1) * THREAD_STRIDE);
    this.ids = new BigInt64Array(data.shared.ids);
    this.clientCount = new Int32Array(data.shared.clients);
    if (data.cpu >= 0) {
      try {
        this.addon.pinCurrentThread(data.cpu);
      } catch (err) {
        this.log.warn({ err, cpu: data.cpu }, 'could not pin worker thread');
      }
    }
    // A predecessor that died may have left monitors counted (the core forgets them at registerMailbox).
    this.row[ThreadSlot.Monitors] = 0;
    this.row[ThreadSlot.Cpu] = this.addon.currentCpu();
    this.row[ThreadSlot.Tid] = this.addon.currentTid();
  }

  /**
   * Open one listening socket per bind address, each with SO_REUSEPORT, and serve them through
   * io_uring, or through Node's sockets when io-uring is off or the kernel refuses a ring.
   */
  listen(wakeFd: number): void {
    const fds = this.config.bind.map((host) => {
      const addr = host.startsWith('-') ? host.slice(1) : host;
      if (!isLoopback(addr)) this.bindsOutside = true;
      return this.addon.listenReuseport(addr === '*' ? '0.0.0.0' : addr, this.config.port, this.config['tcp-backlog']);
    });
    if (this.config['io-uring'] === 'yes') {
      try {
        this.addon.ringOpen(fds, RING_ENTRIES, wakeFd, this.index);
        this.addon.registerMailbox(this.index, wakeFd, false);
        this.uring = new UringLoop(this.addon, this);
        this.applyOutputLimits();
        this.applyKeepalive();
        this.uring.start();
      } catch (err) {
        this.log.warn({ err }, 'io_uring unavailable; serving through Node sockets');
      }
    }
    if (this.uring === undefined) {
      this.watchMailbox();
      for (const fd of fds) {
        const server = createServer({ noDelay: true }, (socket) => this.acceptSocket(socket));
        server.on('error', (err) => this.log.error({ err }, 'listener error'));
        server.listen({ fd });
        this.servers.push(server);
      }
    }
    // Counters other threads read (INFO), refreshed often enough for a human, never per command.
    this.statsTimer = setInterval(() => this.sampleRates(), 100);
    this.statsTimer.unref();
    this.log.info({ cpu: this.row[ThreadSlot.Cpu], tid: this.row[ThreadSlot.Tid] }, 'worker listening');
  }

  /**
   * Node sockets: the mailbox wakes this worker through a pipe its event loop reads (the ring
   * reads the eventfd instead); each wake takes the whole mailbox.
   */
  private watchMailbox(): void {
    const [rfd, wfd] = this.addon.createWakePipe() as [number, number];
    this.addon.registerMailbox(this.index, wfd, true);
    const pipe = new Socket({ fd: rfd, readable: true, writable: false });
    pipe.on('data', () => eachMail(this.addon.takeMail(), (kind, client, bytes) => this.onMail(kind, client, bytes)));
    pipe.on('error', (err) => this.log.error({ err }, 'mailbox pipe error'));
    pipe.unref();
  }

  /** Mail from another thread about client `client` of this worker (mail.ts kinds). */
  onMail(kind: number, client: number, bytes: Buffer): void {
    switch (kind) {
      case MAIL_PUSH:
        this.clients.get(client)?.push(bytes);
        return;
      case MAIL_YIELD:
        return;
      case MAIL_TRACKING_REDIRECT:
        deliverRedirected(this, client, bytes);
        return;
      case MAIL_REPLY:
        this.blocking.onReply(this.clients.get(client), bytes);
        return;
      default:
        this.log.warn({ kind, client }, 'mail of an unknown kind');
    }
  }

  /** Hand the ring the client-output-buffer-limit values it enforces on pushes. */
  private applyOutputLimits(): void {
    if (this.uring !== undefined) this.addon.ringSetOutputLimits(this.config['client-output-buffer-limit']);
  }

  /** Hand the ring the tcp-keepalive its next accepted sockets get (Node sockets get it in acceptSocket). */
  private applyKeepalive(): void {
    if (this.uring !== undefined) this.addon.ringSetKeepalive(this.config['tcp-keepalive']);
  }

  private acceptSocket(socket: Socket): void {
    socket.on('error', () => {});
    const t = new NetTransport(socket, this.addon, this.noteOutput);
    const keepalive = this.config['tcp-keepalive'];
    if (keepalive > 0 && t.fd >= 0) {
      try {
        this.addon.socketKeepalive(t.fd, keepalive);
      } catch (err) {
        // As Redis, a socket that refuses keepalive is served without it.
        this.log.debug({ err }, 'tcp-keepalive not set');
      }
    }
    this.accept(t);
  }

  /**
   * A new client: its Connection, or undefined when maxclients or protected mode refused it
   * (told, and closing), checked in Redis's order.
   */
  accept(t: Transport): Connection | undefined {
    const full = Atomics.add(this.clientCount, 0, 1) >= this.config.maxclients;
    if (full || this.deniedByProtectedMode(t)) {
      Atomics.sub(this.clientCount, 0, 1);
      this.rejected++;
      t.write(full ? MAX_CLIENTS : PROTECTED_MODE);
      t.end();
      return undefined;
    }
    // As Redis, total_connections_received counts only the clients let in.
    this.connectionsReceived++;
    const id = Number(Atomics.add(this.ids, 0, 1n) + 1n);
    const c = new Connection(id, t, this);
    this.clients.add(c);
    this.row[ThreadSlot.Clients] = this.clients.size;
    return c;
  }

  /**
   * Redis's protected mode: with no password set, a client from outside the host is told why
   * and closed. Only a listener bound beyond loopback can take one, so the address is not
   * even looked up otherwise.
   */
  private deniedByProtectedMode(t: Transport): boolean {
    return this.bindsOutside && this.config['protected-mode'] === 'yes' && this.config.requirepass === '' && !isLoopback(t.remoteAddress);
  }

  /** Forget a closed connection. */
  removeConnection(c: Connection): void {
    this.blocking.dropped(c);
    if (c.paused) this.pause.forget(c);
    if (this.clients.delete(c)) {
      this.closedSinceTrim++;
      Atomics.sub(this.clientCount, 0, 1);
      this.row[ThreadSlot.Clients] = this.clients.size;
    }
  }

  /** How this worker does socket I/O (INFO `shrike_io`). */
  get ioMode(): 'io_uring' | 'node' {
    return this.uring === undefined ? 'node' : 'io_uring';
  }

  /**
   * A connection dropped a read buffer of `bytes` (a big argument went through). V8 frees a
   * Buffer's memory only when it next collects, and a worker's small heap may not collect
   * for a long time: past BIG_BUFFER, collect on the next turn so the memory goes back now.
   */
  releasedBuffer(bytes: number): void {
    if (bytes < BIG_BUFFER || this.gcPending || collectGarbage === undefined) return;
    this.gcPending = true;
    setImmediate(() => {
      this.gcPending = false;
      collectGarbage?.();
    });
  }

  /** Count bytes read from clients (INFO total_net_input_bytes). */
  noteInput(n: number): void {
    this.netInput += n;
  }

  /** Count bytes written to clients through Node sockets (the ring counts its own). */
  readonly noteOutput = (n: number): void => {
    this.netOutput += n;
  };

  /** Bytes written to clients so far (INFO total_net_output_bytes). */
  private outputTotal(): number {
    return this.netOutput + (this.uring !== undefined ? this.addon.ringBytesSent() : 0);
  }

  /**
   * Memory held for this worker's clients (INFO mem_clients_normal): their query buffers and
   * the buffers of their pending output.
   */
  private clientMemory(): number {
    let n = this.uring !== undefined ? this.addon.ringOutputBytes() : 0;
    for (const c of this.clients) n += c.memoryUse();
    return n;
  }

  /** Every 100 ms: sample the rates (INFO instantaneous_*), then publish. */
  private sampleRates(): void {
    const now = Date.now();
    for (const c of this.clients) if (c.softSinceMs !== 0) c.checkOutputLimit();
    // Redis's clientsCron visits every client about once a second; this runs 10 times as often.
    if (this.config.timeout > 0) closeIdle(this.clients, this.config.timeout, now, this.log);
    this.opsRate.sample(this.commandsProcessed, now);
    this.inputRate.sample(this.netInput, now);
    this.outputRate.sample(this.outputTotal(), now);
    this.publishStats();
    // Output counts: big replies leave big send buffers behind.
    const traffic = this.netInput + this.outputTotal();
    const moved = traffic - this.trafficAtSample;
    this.addon.sampleMemoryUse(moved >= BUSY_BYTES && moved >= BUSY_BYTES_PER_COMMAND * (this.commandsProcessed - this.commandsAtSample));
    this.trafficAtSample = traffic;
    this.releaseMemory(now, traffic);
  }

  /**
   * Hand the C heap's free pages back to the OS (a trim, alloc.rs) once no burst of big values
   * has come for `memory-release-delay` (alloc.rs memoryCalm), at most once per
   * TRIM_INTERVAL_MS, after any of:
   * - a burst of traffic (a bulk load, big replies) that went quiet: its request and reply
   *   buffers were freed between blocks that live on, where glibc keeps them (loading four
   *   250k-element lists left about 8 MB resident beyond the lists). Only in a quiet 100 ms,
   *   so no client waits on the trim's arena locks. The ring's read pool rests at that
   *   moment whatever the delay (below).
   * - many closed clients: what a client held is freed between blocks that live on, so RSS
   *   kept the high-water mark of every burst (rounds of 10,000 clients crept on from 207 to
   *   230 MB, 2 threads, io_uring; with the trim 155-190 MB). Not while clients keep
   *   arriving: a steady churn reuses what the last ones freed, and the collection below
   *   stopped the worker for 5-13 ms (GET with a connection per request: p99 12 ms, Redis 6).
   * - a large buffer freed in the addon (a big argument dropped, a big send queue closed).
   */
  private releaseMemory(now: number, traffic: number): void {
    const quiet = this.commandsProcessed === this.commandsAtSample;
    this.commandsAtSample = this.commandsProcessed;
    const arriving = this.connectionsReceived !== this.acceptsAtSample;
    this.acceptsAtSample = this.connectionsReceived;
    // CONFIG RESETSTAT zeroes the traffic counts.
    if (traffic < this.trafficAtTrim) this.trafficAtTrim = traffic;
    if (traffic < this.trafficAtRest) this.trafficAtRest = traffic;
    // The ring's read pool is its own mapping, dropped without a trim, and a burst touches it
    // all (8 MiB); its spare send buffers go to the heap for the trim. Not put off like the
    // heap: 1 M keys loaded left 20 MB more resident for the delay, the pool most of it.
    if (quiet && traffic - this.trafficAtRest >= TRIM_AFTER_BYTES && this.uring !== undefined) {
      this.trafficAtRest = traffic;
      this.addon.ringReleasePool();
    }
    if (now - this.lastTrimMs < TRIM_INTERVAL_MS || !this.addon.memoryCalm(this.config['memory-release-delay'])) return;
    const afterBurst = quiet && traffic - this.trafficAtTrim >= TRIM_AFTER_BYTES;
    const afterChurn = !arriving && this.closedSinceTrim >= TRIM_AFTER_CLOSES;
    if (!afterBurst && !afterChurn) {
      // Only what the addon freed, if anything.
      this.addon.releaseFreeMemory(false);
      return;
    }
    this.lastTrimMs = now;
    // Closed clients' buffers and (on Node sockets) their libuv handles are freed only when
    // V8 collects them; collecting first means the trim returns them now, not some GC later.
    if (afterChurn) collectGarbage?.();
    // Refused when another worker trimmed within the second: the counts stay, to try again.
    if (!this.addon.releaseFreeMemory(true)) return;
    this.trafficAtTrim = traffic;
    this.closedSinceTrim = 0;
  }

  /** Copy this worker's counters into its shared row. */
  publishStats(): void {
    const r = this.row;
    r[ThreadSlot.Clients] = this.clients.size;
    r[ThreadSlot.Commands] = this.commandsProcessed;
    r[ThreadSlot.ConnectionsReceived] = this.connectionsReceived;
    r[ThreadSlot.Rejected] = this.rejected;
    r[ThreadSlot.NetInput] = this.netInput;
    r[ThreadSlot.NetOutput] = this.outputTotal();
    r[ThreadSlot.ClientMemory] = this.clientMemory();
    r[ThreadSlot.OpsPerSec] = this.opsRate.perSecond;
    r[ThreadSlot.InputPerSec] = this.inputRate.perSecond;
    r[ThreadSlot.OutputPerSec] = this.outputRate.perSecond;
  }

  /** Every worker's counters, this one's fresh: rows of THREAD_STRIDE values. */
  threadRows(): Float64Array[] {
    this.publishStats();
    const rows: Float64Array[] = [];
    for (let i = 0; i < this.allRows.length; i += THREAD_STRIDE) rows.push(this.allRows.subarray(i, i + THREAD_STRIDE));
    return rows;
  }

  /** Whether any worker has a client in MONITOR mode (then every command is fed to them). */
  get monitoring(): boolean {
    const rows = this.allRows;
    for (let i = ThreadSlot.Monitors; i < rows.length; i += THREAD_STRIDE) if ((rows[i] as number) > 0) return true;
    return false;
  }

  /** One of this worker's clients started (+1) or stopped (-1) monitoring. */
  monitorsChanged(by: number): void {
    this.row[ThreadSlot.Monitors] = (this.row[ThreadSlot.Monitors] ?? 0) + by;
  }

  /** Connected clients over all workers. */
  get connectedClients(): number {
    return Atomics.load(this.clientCount, 0);
  }

  /** Ask every worker (this one included) through the main thread; `done` gets their answers. */
  ask(ask: Ask, done: (results: readonly unknown[]) => void): void {
    const id = this.nextAsk++;
    this.asks.set(id, done);
    post({ t: 'ask', id, ask });
  }

  /** A message from the main thread. */
  onMessage(m: ToWorker): void {
    switch (m.t) {
      case 'ask':
        post({ t: 'answer', id: m.id, result: this.answer(m.ask) });
        return;
      case 'results': {
        const done = this.asks.get(m.id);
        this.asks.delete(m.id);
        done?.(m.results);
        return;
      }
      case 'shutdown':
        this.shutdown();
        return;
    }
  }

  private answer(ask: Ask): unknown {
    switch (ask.kind) {
      case 'clientList':
        return listClients(this.clients, ask.filter);
      case 'clientKill':
        return killClients(this.clients, ask.filter, ask.skipId);
      case 'clientUnpause':
        this.pause.release();
        return true;
      case 'configSet':
        for (const [k, v] of ask.pairs) applyParam(this.config, k, [v]);
        configureKeyspace(
          this.addon,
          this.config,
          ask.pairs.map(([k]) => k),
        );
        if (ask.pairs.some(([k]) => k === 'loglevel')) this.log.level = pinoLevel(this.config.loglevel);
        if (ask.pairs.some(([k]) => k === 'proto-max-bulk-len')) for (const c of this.clients) c.applyLimits();
        if (ask.pairs.some(([k]) => k === 'client-output-buffer-limit')) this.applyOutputLimits();
        if (ask.pairs.some(([k]) => k === 'tcp-keepalive')) this.applyKeepalive();
        return true;
      case 'resetStats':
        this.resetStats();
        return true;
      case 'publishStats':
        this.publishStats();
        return true;
      case 'clientWorker': {
        const c = this.clients.get(ask.id);
        return c !== undefined && !c.closed ? this.index : -1;
      }
    }
  }

  /** CONFIG RESETSTAT: this worker's share of what Redis's resetServerStats zeroes. */
  private resetStats(): void {
    this.commandsProcessed = 0;
    this.connectionsReceived = 0;
    this.rejected = 0;
    this.netInput = 0;
    // The ring counts what it sent since it started: count from here on.
    this.netOutput = -(this.uring !== undefined ? this.addon.ringBytesSent() : 0);
    this.opsRate.reset();
    this.inputRate.reset();
    this.outputRate.reset();
    this.stats.reset();
    this.publishStats();
  }

  /**
   * End this worker thread at once, as a crash would: no drain, no goodbye to the main
   * thread, which sees the exit and starts a replacement (DEBUG SEGFAULT).
   */
  crash(): never {
    process.exit(139);
  }

  /** Stop accepting, let in-flight replies go out, then end the thread. */
  shutdown(): void {
    for (const s of this.servers) s.close();
    if (this.statsTimer !== undefined) clearInterval(this.statsTimer);
    for (const c of this.clients) {
      c.closeAfterReply = true;
      c.flush();
    }
    const done = (): void => {
      this.log.flush();
      post({ t: 'stopped' });
      setImmediate(() => process.exit(0));
    };
    if (this.uring !== undefined) {
      this.uring.drain(done);
      return;
    }
    if (this.clients.size === 0) {
      done();
      return;
    }
    const check = setInterval(() => {
      if (this.clients.size === 0) {
        clearInterval(check);
        done();
      }
    }, 10);
  }
}

function post(m: ToMain): void {
  parentPort?.postMessage(m);
}

if (!isMainThread && parentPort !== null) {
  const server = new WorkerServer(workerData as WorkerData);
  parentPort.on('message', (m: ToWorker) => server.onMessage(m));
  server.listen((workerData as WorkerData).wakeFd);
  post({ t: 'listening' });
}
