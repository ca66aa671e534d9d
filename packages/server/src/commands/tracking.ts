/**
 * Client-side caching's CLIENT subcommands, after Redis 7.2's networking.c clientCommand and
 * tracking.c: TRACKING, CACHING, GETREDIR, TRACKINGINFO. The connection keeps the client's
 * options (they decide which batches remember their keys: Connection.trackFlag); the core
 * keeps the tracking table, turns writes into invalidations and sends them
 * (crates/keyspace/src/tracking.rs). Redirected invalidations come to the redirect client's
 * worker as mail, framed here for that client (`deliverRedirected`).
 */
import type { Connection } from '../connection';
import { NOT_INTEGER, SYNTAX } from '../errors';
import type { WorkerServer } from '../worker';
import { parseInteger } from './connection';
import type { TsEntry } from './types';

/** Connection.trackingOpt bits (Redis's CLIENT_TRACKING_* flags besides on and BCAST). */
export const TRACK_OPTIN = 1;
export const TRACK_OPTOUT = 2;
export const TRACK_NOLOOP = 4;
/** CLIENT CACHING yes (OPTIN) or no (OPTOUT) given for the next command. */
export const TRACK_CACHING = 8;

const OK = Buffer.from('+OK\r\n');

// Redis 7.2's texts (networking.c clientCommand, tracking.c checkPrefixCollisionsOrReply).
const ONE_REDIRECT = 'ERR A client can only redirect to a single other client';
const NO_REDIRECT_CLIENT = 'ERR The client ID you want redirect to does not exist';
const PREFIX_NEEDS_BCAST = 'ERR PREFIX option requires BCAST mode to be enabled';
const SWITCH_BCAST =
  "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.";
const OPT_WITH_BCAST = 'ERR OPTIN and OPTOUT are not compatible with BCAST';
const OPTIN_AND_OPTOUT = "ERR You can't specify both OPTIN mode and OPTOUT mode";
const SWITCH_OPT =
  "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.";
const CACHING_NOT_TRACKING = 'ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled';
const CACHING_YES = 'ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.';
const CACHING_NO = 'ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.';
const overlapsExisting = (p: Buffer, q: Buffer): string =>
  `ERR Prefix '${p.toString('latin1')}' overlaps with an existing prefix '${q.toString('latin1')}'. Prefixes for a single client must not overlap.`;
const overlapsProvided = (p: Buffer, q: Buffer): string =>
  `ERR Prefix '${p.toString('latin1')}' overlaps with another provided prefix '${q.toString('latin1')}'. Prefixes for a single client must not overlap.`;

/** The head of an invalidation push (RESP3): `>2 invalidate`, the value follows. */
const PUSH_HEAD = Buffer.from('>2\r\n$10\r\ninvalidate\r\n');
/** The head of an invalidation as a Pub/Sub message on `__redis__:invalidate` (RESP2 redirect). */
const MESSAGE_HEAD = Buffer.from('*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n');

const lower = (b: Buffer | undefined): string => (b === undefined ? '' : b.toString('latin1').toLowerCase());

/** CLIENT TRACKING's options as parsed. */
interface TrackingArgs {
  redirect: number;
  redirectWorker: number;
  bcast: boolean;
  optin: boolean;
  optout: boolean;
  noloop: boolean;
  prefixes: Buffer[];
}

/**
 * CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p ...] [BCAST] [OPTIN] [OPTOUT] [NOLOOP]
 * Options are checked in Redis's order; REDIRECT's client must exist now, on any worker.
 */
function clientTracking(c: Connection, argv: Buffer[]): void {
  const args: TrackingArgs = { redirect: 0, redirectWorker: 0, bcast: false, optin: false, optout: false, noloop: false, prefixes: [] };
  parseFrom(c, argv, 3, args, false);
}

/**
 * Parse CLIENT TRACKING's options from argv[from]; when REDIRECT names a client of another
 * worker, ask the workers where it is and go on from there once they answered (`resumed`).
 */
function parseFrom(c: Connection, argv: Buffer[], from: number, a: TrackingArgs, resumed: boolean): void {
  const fail = (text: string | Buffer): void => {
    if (typeof text === 'string') c.w.error(text);
    else c.w.raw(text);
    if (resumed) c.resume();
  };
  for (let j = from; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const opt = lower(argv[j]);
    if (opt === 'redirect' && more > 0) {
      j++;
      if (a.redirect !== 0) {
        fail(ONE_REDIRECT);
        return;
      }
      const id = parseInteger(argv[j] as Buffer);
      if (id === undefined) {
        fail(NOT_INTEGER);
        return;
      }
      a.redirect = id;
      const local = c.server.clients.get(id);
      if (local !== undefined && !local.closed) {
        a.redirectWorker = c.server.index;
        continue;
      }
      if (id <= 0) {
        fail(NO_REDIRECT_CLIENT);
        return;
      }
      const next = j + 1;
      if (!resumed) c.suspend();
      c.server.ask({ kind: 'clientWorker', id }, (results) => {
        const worker = Math.max(-1, ...(results as number[]));
        if (worker < 0) {
          c.w.error(NO_REDIRECT_CLIENT);
          c.resume();
          return;
        }
        a.redirectWorker = worker;
        parseFrom(c, argv, next, a, true);
      });
      return;
    }
    if (opt === 'bcast') a.bcast = true;
    else if (opt === 'optin') a.optin = true;
    else if (opt === 'optout') a.optout = true;
    else if (opt === 'noloop') a.noloop = true;
    else if (opt === 'prefix' && more > 0) a.prefixes.push(argv[++j] as Buffer);
    else {
      fail(SYNTAX);
      return;
    }
  }
  apply(c, lower(argv[2]), a);
  if (resumed) c.resume();
}

/** The on/off part of CLIENT TRACKING, once its options parsed. */
function apply(c: Connection, onOff: string, a: TrackingArgs): void {
  if (onOff === 'off') {
    disableTracking(c);
    c.w.raw(OK);
    return;
  }
  if (onOff !== 'on') {
    c.w.raw(SYNTAX);
    return;
  }
  const opt = c.trackingOpt;
  let error: string | undefined;
  if (!a.bcast && a.prefixes.length > 0) error = PREFIX_NEEDS_BCAST;
  else if (c.tracking && c.trackingBcast !== a.bcast) error = SWITCH_BCAST;
  else if (a.bcast && (a.optin || a.optout)) error = OPT_WITH_BCAST;
  else if (a.optin && a.optout) error = OPTIN_AND_OPTOUT;
  else if ((a.optin && (opt & TRACK_OPTOUT) !== 0) || (a.optout && (opt & TRACK_OPTIN) !== 0)) error = SWITCH_OPT;
  if (error !== undefined) {
    c.w.error(error);
    return;
  }
  if (a.bcast && !prefixesOk(c, a.prefixes)) return;
  c.tracking = true;
  c.trackingBcast = a.bcast;
  c.trackingRedirect = a.redirect;
  // Redis's enableTracking keeps a CLIENT CACHING already given.
  c.trackingOpt = (opt & TRACK_CACHING) | (a.optin ? TRACK_OPTIN : 0) | (a.optout ? TRACK_OPTOUT : 0) | (a.noloop ? TRACK_NOLOOP : 0);
  c.server.addon.trackingEnable(c.id, c.server.index, c.proto === 3, a.redirect, a.redirectWorker, a.bcast, a.noloop, a.prefixes);
  c.w.raw(OK);
}

/**
 * tracking.c checkPrefixCollisionsOrReply: no new prefix may be a prefix of one the client
 * has or of another new one (compared over the shorter length). False after an error reply.
 * Redis 7.2 quirk kept: an overlap between two new prefixes found past the first one replies
 * the error and yet enables tracking (and replies +OK too), because the check returns the
 * loop index, which is then taken as success.
 */
function prefixesOk(c: Connection, prefixes: readonly Buffer[]): boolean {
  const existing = c.tracking ? (c.server.addon.trackingState(c.id)?.prefixes ?? []) : [];
  const overlap = (p: Buffer, q: Buffer): boolean => {
    const n = Math.min(p.length, q.length);
    return p.subarray(0, n).equals(q.subarray(0, n));
  };
  for (let i = 0; i < prefixes.length; i++) {
    const p = prefixes[i] as Buffer;
    for (const q of existing) {
      if (overlap(q, p)) {
        c.w.error(overlapsExisting(p, q));
        return false;
      }
    }
    for (let j = i + 1; j < prefixes.length; j++) {
      const q = prefixes[j] as Buffer;
      if (overlap(p, q)) {
        c.w.error(overlapsProvided(p, q));
        return i !== 0;
      }
    }
  }
  return true;
}

/** Redis's disableTracking: CLIENT TRACKING off, RESET, or the client closing. */
export function disableTracking(c: Connection): void {
  if (!c.tracking) return;
  c.tracking = false;
  c.trackingBcast = false;
  c.trackingRedirect = 0;
  c.trackingOpt = 0;
  c.server.addon.trackingDisable(c.id);
}

/** CLIENT CACHING YES|NO */
function clientCaching(c: Connection, argv: Buffer[]): void {
  if (!c.tracking) {
    c.w.error(CACHING_NOT_TRACKING);
    return;
  }
  const opt = lower(argv[2]);
  if (opt === 'yes') {
    if ((c.trackingOpt & TRACK_OPTIN) === 0) {
      c.w.error(CACHING_YES);
      return;
    }
  } else if (opt === 'no') {
    if ((c.trackingOpt & TRACK_OPTOUT) === 0) {
      c.w.error(CACHING_NO);
      return;
    }
  } else {
    c.w.raw(SYNTAX);
    return;
  }
  c.trackingOpt |= TRACK_CACHING;
  c.w.raw(OK);
}

/** CLIENT GETREDIR */
function clientGetredir(c: Connection): void {
  c.w.integer(c.tracking ? c.trackingRedirect : -1);
}

/** CLIENT TRACKINGINFO: flags (a set), redirect, prefixes, as Redis 7.2 orders them. */
function clientTrackinginfo(c: Connection): void {
  const state = c.tracking ? c.server.addon.trackingState(c.id) : null;
  const opt = c.trackingOpt;
  const flags = [c.tracking ? 'on' : 'off'];
  if (c.trackingBcast) flags.push('bcast');
  if ((opt & TRACK_OPTIN) !== 0) {
    flags.push('optin');
    if ((opt & TRACK_CACHING) !== 0) flags.push('caching-yes');
  }
  if ((opt & TRACK_OPTOUT) !== 0) {
    flags.push('optout');
    if ((opt & TRACK_CACHING) !== 0) flags.push('caching-no');
  }
  if ((opt & TRACK_NOLOOP) !== 0) flags.push('noloop');
  if (state?.broken === true) flags.push('broken_redirect');
  c.w.mapHeader(3);
  c.w.bulk('flags');
  c.w.setHeader(flags.length);
  for (const f of flags) c.w.bulk(f);
  c.w.bulk('redirect');
  c.w.integer(c.tracking ? c.trackingRedirect : -1);
  c.w.bulk('prefixes');
  const prefixes = state?.prefixes ?? [];
  c.w.arrayHeader(prefixes.length);
  for (const p of prefixes) c.w.bulk(p);
}

/**
 * A redirected invalidation for client `target` of this worker (mail from the core: the
 * tracking client's id, then the message's value). Framed as Redis's sendTrackingMessage
 * frames it for the redirect client: a push in RESP3, a `__redis__:invalidate` message when
 * it is in Pub/Sub mode in RESP2, nothing otherwise. A target that is gone breaks the
 * redirect, which the core reports to the tracking client.
 */
export function deliverRedirected(server: WorkerServer, target: number, bytes: Buffer): void {
  const tracker = Number(bytes.readBigUInt64LE(0));
  const value = bytes.subarray(8);
  const c = server.clients.get(target);
  if (c === undefined || c.closed) {
    server.addon.trackingRedirectBroken(tracker);
    return;
  }
  if (c.proto === 3) c.push(Buffer.concat([PUSH_HEAD, value]));
  else if (c.sub + c.psub + c.ssub > 0) c.push(Buffer.concat([MESSAGE_HEAD, value]));
}

/** The CLIENT subcommands of client-side caching. */
export const entries: readonly TsEntry[] = [
  { name: 'client|tracking', handler: clientTracking },
  { name: 'client|caching', handler: clientCaching },
  { name: 'client|getredir', handler: clientGetredir },
  { name: 'client|trackinginfo', handler: clientTrackinginfo },
];
