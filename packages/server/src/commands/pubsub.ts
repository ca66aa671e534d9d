/**
 * The pub/sub group's connection commands, after Redis's pubsub.c: (P|S)SUBSCRIBE and
 * (P|S)UNSUBSCRIBE. They change who listens in the process-wide registry (Rust,
 * crates/keyspace/src/pubsub.rs, shared by every worker) and the connection's counts, and
 * reply one confirmation per name. PUBLISH, SPUBLISH and PUBSUB run in the core.
 */
import { type Connection, ReplyMode } from '../connection';
import type { TsEntry } from './types';

/** Subscription kinds, as the binding numbers them (pubsub::Kind). */
const CHANNEL = 0;
const PATTERN = 1;
const SHARD = 2;

/** What Redis's pubsubtype gives each kind: the confirmation names. */
const SUBSCRIBE_NAME = ['subscribe', 'psubscribe', 'ssubscribe'] as const;
const UNSUBSCRIBE_NAME = ['unsubscribe', 'punsubscribe', 'sunsubscribe'] as const;

/** Commands a RESP2 client may run while subscribed (server.c processCommand). */
const ALLOWED_SUBSCRIBED = new Set([
  'ping',
  'subscribe',
  'ssubscribe',
  'unsubscribe',
  'sunsubscribe',
  'psubscribe',
  'punsubscribe',
  'quit',
  'reset',
]);

/**
 * The error for `name` when the client may not run it now (RESP2 subscribed mode), else
 * undefined. RESP3 clients run anything while subscribed.
 */
export function subscribedModeError(c: Connection, name: string): string | undefined {
  if (c.proto !== 2 || c.sub + c.psub + c.ssub === 0 || ALLOWED_SUBSCRIBED.has(name)) return undefined;
  return `ERR Can't execute '${name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`;
}

/** The count a confirmation of `kind` carries: channels plus patterns, shard channels apart. */
function countFor(c: Connection, kind: number): number {
  return kind === SHARD ? c.ssub : c.sub + c.psub;
}

/** Add `delta` to the connection's count of `kind`, keeping its output class in step. */
function adjust(c: Connection, kind: number, delta: number): void {
  const before = c.outputClass;
  if (kind === CHANNEL) c.sub += delta;
  else if (kind === PATTERN) c.psub += delta;
  else c.ssub += delta;
  if (c.outputClass !== before) c.transport.setOutputClass(c.outputClass);
}

/** One confirmation: `*3`/`>3` of the kind's name, the channel (or null), the count. */
function confirm(c: Connection, name: string, channel: Buffer | undefined, kind: number): void {
  const w = c.w;
  w.pushHeader(3);
  w.bulk(name);
  if (channel === undefined) w.null();
  else w.bulk(channel);
  w.integer(countFor(c, kind));
}

/**
 * Confirmations are pushes: Redis writes them under CLIENT REPLY OFF/SKIP too (CLIENT_PUSHING),
 * where dispatch drops what a command wrote. Send them past it, in order (dispatch flushed
 * everything before this command).
 */
function pushPastReplyOff(c: Connection, mark: number): void {
  if (c.replyMode === ReplyMode.On || c.w.length === mark) return;
  c.transport.write(Buffer.from(c.w.written(mark)));
}

/** `pubsubSubscribeChannel` / `pubsubSubscribePattern` for each name of argv[1..]. */
function subscribeGeneric(c: Connection, argv: Buffer[], kind: number): void {
  const mark = c.w.length;
  const names = argv.slice(1);
  const added = c.server.addon.pubsubSubscribe(c.id, c.server.index, c.proto === 3, kind, names);
  for (let i = 0; i < names.length; i++) {
    if (added[i] === 1) adjust(c, kind, 1);
    confirm(c, SUBSCRIBE_NAME[kind] as string, names[i], kind);
  }
  pushPastReplyOff(c, mark);
}

/**
 * `pubsubUnsubscribeChannel` for each name of argv[1..], or every name of the kind when
 * there are none (with the null-channel confirmation when there was nothing to leave).
 */
function unsubscribeGeneric(c: Connection, argv: Buffer[], kind: number): void {
  const mark = c.w.length;
  const name = UNSUBSCRIBE_NAME[kind] as string;
  if (argv.length === 1) {
    const gone = c.server.addon.pubsubUnsubscribeAll(c.id, kind);
    for (const ch of gone) {
      adjust(c, kind, -1);
      confirm(c, name, ch, kind);
    }
    if (gone.length === 0) confirm(c, name, undefined, kind);
  } else {
    const names = argv.slice(1);
    const removed = c.server.addon.pubsubUnsubscribe(c.id, kind, names);
    for (let i = 0; i < names.length; i++) {
      if (removed[i] === 1) adjust(c, kind, -1);
      confirm(c, name, names[i], kind);
    }
  }
  pushPastReplyOff(c, mark);
}

/** SUBSCRIBE channel [channel ...] */
function subscribe(c: Connection, argv: Buffer[]): void {
  subscribeGeneric(c, argv, CHANNEL);
}

/** UNSUBSCRIBE [channel ...] */
function unsubscribe(c: Connection, argv: Buffer[]): void {
  unsubscribeGeneric(c, argv, CHANNEL);
}

/** PSUBSCRIBE pattern [pattern ...] */
function psubscribe(c: Connection, argv: Buffer[]): void {
  subscribeGeneric(c, argv, PATTERN);
}

/** PUNSUBSCRIBE [pattern ...] */
function punsubscribe(c: Connection, argv: Buffer[]): void {
  unsubscribeGeneric(c, argv, PATTERN);
}

/** SSUBSCRIBE shardchannel [shardchannel ...] */
function ssubscribe(c: Connection, argv: Buffer[]): void {
  subscribeGeneric(c, argv, SHARD);
}

/** SUNSUBSCRIBE [shardchannel ...] */
function sunsubscribe(c: Connection, argv: Buffer[]): void {
  unsubscribeGeneric(c, argv, SHARD);
}

/**
 * Leave every channel, pattern and shard channel without a word to the client (RESET,
 * disconnect: Redis's clearClientConnectionState / freeClient).
 */
export function unsubscribeAllQuietly(c: Connection): void {
  if (c.sub + c.psub + c.ssub === 0) return;
  c.server.addon.pubsubDropClient(c.id);
  c.sub = 0;
  c.psub = 0;
  c.ssub = 0;
  if (!c.closed) c.transport.setOutputClass(c.outputClass);
}

/** HELLO changed the client's protocol: its messages from now on are framed for it. */
export function protocolChanged(c: Connection): void {
  if (c.sub + c.psub + c.ssub > 0) c.server.addon.pubsubSetResp3(c.id, c.proto === 3);
}

export const entries = [
  { name: 'subscribe', handler: subscribe },
  { name: 'unsubscribe', handler: unsubscribe },
  { name: 'psubscribe', handler: psubscribe },
  { name: 'punsubscribe', handler: punsubscribe },
  { name: 'ssubscribe', handler: ssubscribe },
  { name: 'sunsubscribe', handler: sunsubscribe },
] as const satisfies readonly TsEntry[];
