/**
 * The main thread: reads the configuration, starts one worker per configured thread (each
 * pinned to its own CPU), restarts a worker that dies, relays the hub's questions between
 * workers, and shuts everything down cleanly on SIGINT/SIGTERM. It serves no clients itself.
 * The keyspace is process-wide Rust state, so a restarted worker serves the same data; only
 * a crash loop (see RestartPolicy) ends the process, non-zero, for systemd or docker to act on.
 */

import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type pino from 'pino';
import { ConfigError, parseArgs, type RestartPolicy, restartPolicy } from './cli';
import { applyParam, type Config } from './config';
import { loadAddon } from './core';
import { fitMaxclients } from './limits';
import { createLogger, pinoLevel } from './log';
import { type Ask, createShared, releaseClients, type SharedBuffers, type ToMain, type ToWorker, type WorkerData } from './shared';

interface Slot {
  worker: Worker | undefined;
  readonly index: number;
  readonly cpu: number;
  /** Deaths in a row of workers in this slot that never ran healthily (reset by one that did). */
  crashes: number;
  /** When the current worker was spawned, to tell a healthy run from a crash loop. */
  spawnedAtMs: number;
  /** Written after each message, so that a worker blocked in io_uring reads it at once. */
  readonly wakeFd: number;
}

interface Pending {
  readonly from: Slot;
  readonly fromId: number;
  waiting: Set<number>;
  readonly results: unknown[];
}

/**
 * Whether workers pin themselves to CPUs (`cpu-affinity`): `yes`, `no`, or `auto`, which
 * pins only on machines with more than AUTO_PIN_MIN_CPUS CPUs. On a small machine the
 * server usually shares its CPUs with its clients; a worker pinned to the CPU a busy client
 * runs on cannot move away from it, and its clients wait (measured: see benchmarks/README.md).
 */
export function pinWorkers(mode: string, cpus: number): boolean {
  if (mode === 'yes') return true;
  if (mode === 'no') return false;
  return cpus > AUTO_PIN_MIN_CPUS;
}

/** `cpu-affinity auto` leaves machines with this many CPUs or fewer unpinned. */
const AUTO_PIN_MIN_CPUS = 2;

/** Supervises the workers and relays the hub. */
class Supervisor {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextAsk = 1;
  private stopping = false;
  private listening = 0;
  private readonly config: Config;
  private readonly shared: SharedBuffers;
  private readonly startedAtMs = Date.now();
  private readonly addon = loadAddon();

  constructor(
    config: Readonly<Config>,
    private readonly log: pino.Logger,
    private readonly policy: RestartPolicy,
  ) {
    this.config = { ...config, bind: [...config.bind] };
    this.shared = createShared(config.threads);
    const allowed = this.addon.allowedCpus();
    const cpus = pinWorkers(config['cpu-affinity'], allowed.length) ? allowed : [];
    for (let i = 0; i < config.threads; i++) {
      const cpu = cpus.length > 0 ? (cpus[i % cpus.length] as number) : -1;
      this.slots.push({ worker: undefined, index: i, cpu, crashes: 0, spawnedAtMs: 0, wakeFd: this.addon.createWakeFd() });
    }
  }

  start(): void {
    for (const s of this.slots) this.spawn(s);
  }

  private spawn(slot: Slot): void {
    const data: WorkerData = {
      index: slot.index,
      cpu: slot.cpu,
      config: this.config,
      shared: this.shared,
      startedAtMs: this.startedAtMs,
      wakeFd: slot.wakeFd,
    };
    const w = new Worker(join(__dirname, 'worker.js'), { workerData: data, name: `shrike-worker-${slot.index}` });
    slot.worker = w;
    slot.spawnedAtMs = Date.now();
    w.on('message', (m: ToMain) => this.onMessage(slot, m));
    w.on('error', (err) => this.log.error({ worker: slot.index, err }, 'worker failed'));
    w.on('exit', (code) => {
      slot.worker = undefined;
      this.forget(slot);
      releaseClients(this.shared, slot.index);
      if (this.stopping) {
        this.maybeExit();
        return;
      }
      this.restart(slot, code);
    });
  }

  /**
   * Start a replacement for the dead worker of `slot`, after a backoff that grows with each
   * crash in a row, or give up when the slot is crash-looping. The timer stays referenced: with
   * every worker dead it is all that keeps the process, and the keyspace in it, alive.
   */
  private restart(slot: Slot, code: number): void {
    const ranMs = Date.now() - slot.spawnedAtMs;
    if (ranMs >= this.policy.healthyMs) slot.crashes = 0;
    slot.crashes++;
    if (slot.crashes > this.policy.maxCrashes) {
      this.log.fatal(
        { worker: slot.index, code, crashes: slot.crashes, healthyMs: this.policy.healthyMs },
        `worker ${slot.index} died ${slot.crashes} times in a row, each within ${this.policy.healthyMs} ms of starting: ` +
          'giving up, exiting with status 1 so that a process supervisor can restart Shrike',
      );
      this.log.flush(() => process.exit(1));
      return;
    }
    const delayMs = Math.min(1000, 50 * 2 ** Math.min(slot.crashes, 5));
    this.log.error({ worker: slot.index, code, crashes: slot.crashes, delayMs }, 'worker exited; starting a replacement');
    setTimeout(() => {
      if (!this.stopping) this.spawn(slot);
    }, delayMs);
  }

  private onMessage(slot: Slot, m: ToMain): void {
    switch (m.t) {
      case 'listening':
        this.listening++;
        if (this.listening === this.slots.length) {
          this.log.info({ port: this.config.port, bind: this.config.bind, threads: this.slots.length }, 'Ready to accept connections');
        }
        return;
      case 'ask':
        this.relay(slot, m.id, m.ask);
        return;
      case 'answer': {
        const p = this.pending.get(m.id);
        if (p === undefined) return;
        p.results.push(m.result);
        p.waiting.delete(slot.index);
        this.settle(m.id, p);
        return;
      }
      case 'stopped':
        return;
    }
  }

  /** Ask every live worker, gather the answers, reply to the asker. */
  private relay(from: Slot, fromId: number, ask: Ask): void {
    if (ask.kind === 'configSet') {
      // Keep the supervisor's copy current, so that a restarted worker gets the new values.
      for (const [k, v] of ask.pairs) applyParam(this.config, k, [v]);
    }
    const id = this.nextAsk++;
    const live = this.slots.filter((s) => s.worker !== undefined);
    const p: Pending = { from, fromId, waiting: new Set(live.map((s) => s.index)), results: [] };
    this.pending.set(id, p);
    const msg: ToWorker = { t: 'ask', id, ask };
    for (const s of live) this.send(s, msg);
    this.settle(id, p);
  }

  private settle(id: number, p: Pending): void {
    if (p.waiting.size > 0) return;
    this.pending.delete(id);
    const msg: ToWorker = { t: 'results', id: p.fromId, results: p.results };
    this.send(p.from, msg);
  }

  private send(slot: Slot, msg: ToWorker): void {
    if (slot.worker === undefined) return;
    slot.worker.postMessage(msg);
    this.addon.postYield(slot.index);
  }

  /** A worker that died answers nothing; don't let questions wait for it. */
  private forget(slot: Slot): void {
    for (const [id, p] of this.pending) {
      if (p.waiting.delete(slot.index)) this.settle(id, p);
    }
  }

  shutdown(signal: string): void {
    if (this.stopping) return;
    this.stopping = true;
    this.log.info({ signal }, 'Received signal, shutting down: finishing in-flight replies');
    const msg: ToWorker = { t: 'shutdown' };
    for (const s of this.slots) this.send(s, msg);
    setTimeout(() => {
      this.log.warn('workers did not stop in time; exiting');
      process.exit(0);
    }, 5000).unref();
    this.maybeExit();
  }

  private maybeExit(): void {
    if (this.slots.every((s) => s.worker === undefined)) {
      this.log.info('Shrike is now ready to exit, bye bye...');
      this.log.flush();
      setImmediate(() => process.exit(0));
    }
  }
}

/** Entry point of `shrike-server`. */
/**
 * Whether every bind address's port is free, as Redis's listenToPort finds out: workers bind
 * with SO_REUSEPORT, which would let a second Shrike on the port share it silently (each
 * client landing in one of two keyspaces), so the port is first bound without it. An
 * optional address (`-` prefix) that cannot be bound is skipped, as Redis skips it.
 */
function portsFree(config: Readonly<Config>, log: pino.Logger): boolean {
  const addon = loadAddon();
  for (const host of config.bind) {
    const optional = host.startsWith('-');
    const addr = optional ? host.slice(1) : host;
    try {
      addon.checkPortFree(addr === '*' ? '0.0.0.0' : addr, config.port);
    } catch (err) {
      if (optional) continue;
      // "bind 127.0.0.1:6379: Address already in use (os error 98)" -> "bind: Address already in use"
      const reason = String((err as Error).message).replace(/^(\w+) \S+: (.*?)(?: \(os error \d+\))?$/, '$1: $2');
      log.warn(`Warning: Could not create server TCP listening socket ${addr}:${config.port}: ${reason}`);
      log.fatal(`Failed listening on port ${config.port} (tcp), aborting.`);
      return false;
    }
  }
  return true;
}

export function main(argv: readonly string[]): void {
  if (argv.includes('--help') || argv.includes('-h')) {
    parseArgs(['--help']);
    return;
  }
  let config: Readonly<Config>;
  try {
    config = parseArgs(argv);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  const log = createLogger(pinoLevel(config.loglevel), config.logfile, 'shrike');
  log.info({ pid: process.pid, port: config.port, threads: config.threads }, 'Shrike starting');
  // Before any worker exists, as Redis's initServer: the limit is process-wide.
  const maxclients = fitMaxclients(loadAddon(), config.maxclients, log);
  if (maxclients === 0) {
    log.flush(() => process.exit(1));
    return;
  }
  if (!portsFree(config, log)) {
    log.flush(() => process.exit(1));
    return;
  }
  const sup = new Supervisor({ ...config, maxclients }, log, restartPolicy(process.env));
  process.on('SIGINT', () => sup.shutdown('SIGINT'));
  process.on('SIGTERM', () => sup.shutdown('SIGTERM'));
  sup.start();
}
