// Running suite cases against a server: FLUSHALL, then each command line in order on
// one connection, stopping at the first mismatch or error (resp_compatibility.py's
// run_test). The connection is replaced whenever it is not ready for the next command,
// as redis-py's pool does; only when no new connection can be had does the run stop.

import { CompareError, floatTolerantEqual, pyEqual, type Reply, ReplyError, showReply, sortNested } from './compare';
import { replyTimeoutMs } from './deadline';
import { type Failure, type Outcome, Tally } from './report';
import type { Resp2Client } from './resp2-client';
import { CommandLineError, caseGroup, commandArgs, type Json, type Mode, type SuiteCase, skipReason } from './suite';

/** The server could not be reached again; the run cannot go on. */
export class ServerGoneError extends Error {
  override readonly name = 'ServerGoneError';
}

/** Opens a new connection to the server under test. */
export type Connect = () => Promise<Resp2Client>;

const RECONNECT_TRIES = 5;
const RECONNECT_PAUSE_MS = 200;

/** The connection a run uses, replaced when it fails, times out or holds unread data. */
export class Session {
  private client: Resp2Client | undefined;

  constructor(
    private readonly connect: Connect,
    /** Base reply timeout per command, in ms. */
    readonly timeoutMs: number,
  ) {}

  /** Sends one command on a ready connection; rejects as Resp2Client.call does. */
  async call(args: readonly Buffer[], timeoutMs = this.timeoutMs): Promise<Reply> {
    const client = await this.readyClient();
    return client.call(args, timeoutMs);
  }

  /** Drops the current connection; the next call opens a new one. */
  reset(): void {
    this.client?.close();
    this.client = undefined;
  }

  /** Closes the connection at the end of a run. */
  close(): void {
    this.reset();
  }

  private async readyClient(): Promise<Resp2Client> {
    if (this.client?.ready) return this.client;
    this.reset();
    let last: unknown;
    // A crashed worker may be restarting: give it a moment before giving up on the run.
    for (let attempt = 0; attempt < RECONNECT_TRIES; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, RECONNECT_PAUSE_MS * attempt));
      try {
        this.client = await this.connect();
        return this.client;
      } catch (e) {
        last = e;
      }
    }
    throw new ServerGoneError(`server unreachable: ${errorText(last)}`);
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

const FLUSHALL = [Buffer.from('FLUSHALL')];

/**
 * FLUSHALL before a case. An error or a dropped connection gets one more try on a new
 * connection, so that a case that leaves its connection unusable (say, subscribed on a
 * server that answered SUBSCRIBE a b once) cannot fail every later case.
 */
async function flushAll(session: Session): Promise<Failure | undefined> {
  let problem = '';
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const r = await session.call(FLUSHALL);
      if (!(r instanceof ReplyError)) return undefined;
      problem = showReply(r);
    } catch (e) {
      if (e instanceof ServerGoneError) throw e;
      problem = errorText(e);
    }
    session.reset();
  }
  return { index: -1, command: 'FLUSHALL', expected: '"OK"', actual: problem };
}

/** Runs one case; undefined when it passed. Throws ServerGoneError only. */
export async function runCase(session: Session, c: SuiteCase): Promise<Failure | undefined> {
  const flushFailure = await flushAll(session);
  if (flushFailure !== undefined) return flushFailure;

  for (let index = 0; index < c.command.length; index++) {
    const line = c.command[index] as string;
    let expected: Json | undefined = c.result[index];
    const fail = (actual: string): Failure => ({
      index,
      command: line,
      expected: expected === undefined ? '(none)' : showReply(expected),
      actual,
    });
    let reply: Reply;
    try {
      const args = commandArgs(c, line);
      reply = await session.call(args, replyTimeoutMs(args, session.timeoutMs));
    } catch (e) {
      if (e instanceof ServerGoneError) throw e;
      // After a timeout the reply may still be coming: the next case starts afresh.
      if (!(e instanceof CommandLineError)) session.reset();
      return fail(errorText(e));
    }
    if (reply instanceof ReplyError) return fail(showReply(reply));
    if (expected === undefined) return fail(`${showReply(reply)} (the case has no expected result for this line)`);

    let actual: Reply | Json = reply;
    try {
      if ('sort_result' in c && Array.isArray(expected)) {
        actual = sortNested(reply) as Reply;
        expected = sortNested(expected) as Json;
      }
    } catch (e) {
      if (!(e instanceof CompareError)) throw e;
      return fail(`${showReply(reply)} (${e.message})`);
    }
    const equal =
      'float_result' in c && Array.isArray(expected) ? floatTolerantEqual(expected, actual as Reply) : pyEqual(expected, actual as Reply);
    if (!equal) return fail(showReply(actual));
  }
  return undefined;
}

/** Which cases run and how, besides the connection. */
export interface RunOptions {
  readonly mode: Mode;
  /** Run cases with since <= version; all cases when undefined. */
  readonly version?: string;
  /** Run only cases whose name contains this text. */
  readonly grep?: string;
  /** Called after each case, for progress output. */
  readonly onCase?: (c: SuiteCase, result: Outcome | { readonly skipped: string }) => void;
}

/** Runs every selected case in order and counts the outcomes; stops early when the server is gone. */
export async function runSuite(cases: readonly SuiteCase[], session: Session, opts: RunOptions): Promise<Tally> {
  const tally = new Tally();
  for (const c of cases) {
    if (opts.grep !== undefined && !c.name.includes(opts.grep)) continue;
    const reason = skipReason(c, opts.mode, opts.version);
    if (reason !== undefined) {
      tally.skip(reason);
      opts.onCase?.(c, { skipped: reason });
      continue;
    }
    let failure: Failure | undefined;
    try {
      failure = await runCase(session, c);
    } catch (e) {
      if (!(e instanceof ServerGoneError)) throw e;
      tally.aborted = `${e.message} (while running '${c.name}')`;
      break;
    }
    const outcome: Outcome = { name: c.name, since: c.since, group: caseGroup(c), ...(failure && { failure }) };
    tally.add(outcome);
    opts.onCase?.(c, outcome);
  }
  return tally;
}
