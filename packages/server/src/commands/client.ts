/**
 * The CLIENT subcommands that reach every worker's clients: LIST, KILL, PAUSE and UNPAUSE
 * (Redis's networking.c clientCommand). They parse and reply here; the registry itself
 * (filters, the pause, idle timeouts) is clients.ts, and other workers answer through the
 * main thread's ask, as these are rare administrative commands. The CLIENT subcommands about
 * the calling connection alone stay in connection.ts.
 */
import { matches } from '../clients';
import type { Connection } from '../connection';
import {
  CLIENT_ID_NOT_POSITIVE,
  INVALID_CLIENT_ID,
  MAXAGE_NOT_INTEGER,
  MAXAGE_NOT_POSITIVE,
  NO_SUCH_CLIENT,
  noSuchUser,
  PAUSE_MODE,
  SYNTAX,
  subcommandSyntax,
  TIMEOUT_NEGATIVE,
  TIMEOUT_NOT_INTEGER,
  TIMEOUT_OUT_OF_RANGE,
  unknownClientType,
} from '../errors';
import type { ClientFilter } from '../shared';
import type { TsEntry } from './types';

const OK = Buffer.from('+OK\r\n');
const INT64_MAX = 2n ** 63n - 1n;
/** The latest pause end kept (ms since the epoch, ~285,000 years ahead): exact as a double. */
const MAX_END_MS = Number.MAX_SAFE_INTEGER;

/** An error reply instead of a parsed value: a constant line or a text to write as an error. */
interface Refused {
  readonly err: Buffer | string;
}

/** Write a refusal's error reply. */
function refuse(c: Connection, r: Refused): void {
  if (typeof r.err === 'string') c.w.error(r.err);
  else c.w.raw(r.err);
}

const str = (b: Buffer | undefined): string => (b === undefined ? '' : b.toString('latin1'));
const lower = (b: Buffer | undefined): string => str(b).toLowerCase();

/** A 64-bit integer as Redis's string2ll reads it (no sign on zero, no '+', no leading zeros). */
function parseInt64(b: Buffer): bigint | undefined {
  const s = str(b);
  if (!/^(0|-?[1-9]\d{0,18})$/.test(s)) return undefined;
  const n = BigInt(s);
  return n > INT64_MAX || n < -INT64_MAX - 1n ? undefined : n;
}

/** Redis's getClientTypeByName; undefined for a name it does not know. */
function clientTypeByName(b: Buffer | undefined): string | undefined {
  const name = lower(b);
  if (name === 'normal' || name === 'pubsub' || name === 'master') return name;
  if (name === 'slave' || name === 'replica') return 'slave';
  return undefined;
}

/** Parse CLIENT LIST's [TYPE t] | [ID id ...]. */
function parseListFilter(argv: Buffer[]): ClientFilter | Refused {
  const opt = lower(argv[2]);
  if (argv.length === 4 && opt === 'type') {
    const type = clientTypeByName(argv[3]);
    return type === undefined ? { err: unknownClientType(str(argv[3])) } : { type };
  }
  if (argv.length > 3 && opt === 'id') {
    const ids: number[] = [];
    for (const b of argv.slice(3)) {
      const id = parseInt64(b);
      if (id === undefined) return { err: INVALID_CLIENT_ID };
      // Ids past 2^53 were never handed out; 0 and negatives match no client either.
      if (id > 0n && id <= BigInt(Number.MAX_SAFE_INTEGER)) ids.push(Number(id));
      else ids.push(0);
    }
    return { ids };
  }
  return argv.length === 2 ? {} : { err: SYNTAX };
}

/** CLIENT LIST [TYPE NORMAL|MASTER|REPLICA|PUBSUB] [ID client-id ...] — over every worker. */
function clientList(c: Connection, argv: Buffer[]): void {
  const filter = parseListFilter(argv);
  if ('err' in filter) {
    refuse(c, filter);
    return;
  }
  c.suspend();
  c.server.ask({ kind: 'clientList', filter }, (results) => {
    const lines = new Map<number, string>();
    for (const r of results as [number, string][][]) for (const [id, line] of r) lines.set(id, line);
    let out = '';
    if (filter.ids !== undefined) {
      // In the order asked, a repeated id repeated, as Redis's CLIENT LIST ID.
      for (const id of filter.ids) {
        const line = lines.get(id);
        if (line !== undefined) out += `${line}\n`;
      }
    } else {
      // Redis lists its clients in the order they connected: the order of their ids.
      for (const id of [...lines.keys()].sort((a, b) => a - b)) out += `${lines.get(id)}\n`;
    }
    c.w.verbatim('txt', out);
    c.resume();
  });
}

/** Parse the new form's `<option> <value>` pairs. */
function parseKillFilter(argv: Buffer[]): { filter: ClientFilter; skipMe: boolean } | Refused {
  const f: { ids?: number[]; type?: string; addr?: string; laddr?: string; user?: string; maxAgeSec?: number } = {};
  let skipMe = true;
  // Redis reads the pairs in order and answers the first bad one, a missing value being a syntax error.
  for (let i = 2; i < argv.length; i += 2) {
    const opt = lower(argv[i]);
    const val = argv[i + 1];
    if (val === undefined) return { err: SYNTAX };
    switch (opt) {
      case 'id': {
        const id = parseInt64(val);
        if (id === undefined || id <= 0n) return { err: CLIENT_ID_NOT_POSITIVE };
        f.ids = [id <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(id) : 0];
        break;
      }
      case 'type': {
        const type = clientTypeByName(val);
        if (type === undefined) return { err: unknownClientType(str(val)) };
        f.type = type;
        break;
      }
      case 'addr':
        f.addr = str(val);
        break;
      case 'laddr':
        f.laddr = str(val);
        break;
      case 'user':
        // The only user there is: Shrike has no ACL users besides `default`.
        if (str(val) !== 'default') return { err: noSuchUser(str(val)) };
        f.user = 'default';
        break;
      case 'skipme': {
        const v = lower(val);
        if (v !== 'yes' && v !== 'no') return { err: SYNTAX };
        skipMe = v === 'yes';
        break;
      }
      case 'maxage': {
        // Redis 7.4's filter (7.2 answers a syntax error): clients connected at least this long.
        const age = parseInt64(val);
        if (age === undefined) return { err: MAXAGE_NOT_INTEGER };
        if (age <= 0n) return { err: MAXAGE_NOT_POSITIVE };
        f.maxAgeSec = Number(age);
        break;
      }
      default:
        return { err: SYNTAX };
    }
  }
  return { filter: f, skipMe };
}

/**
 * CLIENT KILL ip:port | CLIENT KILL <ID id | TYPE t | USER u | ADDR a | LADDR a | SKIPME yes/no | MAXAGE s> ...
 * — over every worker. The old form may kill the caller and answers OK or "No such client";
 * the new one answers a count. A caller that kills itself is closed after that reply.
 */
function clientKill(c: Connection, argv: Buffer[]): void {
  let filter: ClientFilter;
  let skipMe: boolean;
  const old = argv.length === 3;
  if (old) {
    filter = { addr: str(argv[2]) };
    skipMe = false;
  } else {
    const parsed = parseKillFilter(argv);
    if ('err' in parsed) {
      refuse(c, parsed);
      return;
    }
    ({ filter, skipMe } = parsed);
  }
  const self = !skipMe && matches(c, filter, Date.now());
  c.suspend();
  c.server.ask({ kind: 'clientKill', filter, skipId: c.id }, (results) => {
    let killed = self ? 1 : 0;
    for (const n of results as number[]) killed += n;
    if (!old) c.w.integer(killed);
    else c.w.raw(killed > 0 ? OK : NO_SUCH_CLIENT);
    if (self) c.closeAfterReply = true;
    c.resume();
  });
}

/** CLIENT PAUSE timeout [WRITE|ALL] */
function clientPause(c: Connection, argv: Buffer[]): void {
  if (argv.length > 4) {
    c.w.error(subcommandSyntax('client', str(argv[1])));
    return;
  }
  let all = true;
  if (argv.length === 4) {
    const mode = lower(argv[3]);
    if (mode === 'write') all = false;
    else if (mode !== 'all') {
      c.w.raw(PAUSE_MODE);
      return;
    }
  }
  const timeoutMs = parseInt64(argv[2] as Buffer);
  if (timeoutMs === undefined) {
    c.w.raw(TIMEOUT_NOT_INTEGER);
    return;
  }
  if (timeoutMs < 0n) {
    c.w.raw(TIMEOUT_NEGATIVE);
    return;
  }
  const now = Date.now();
  // timeout.c getTimeoutFromObjectOrReply: 0 stays 0 (no pause), else now + timeout.
  if (timeoutMs > INT64_MAX - BigInt(now)) {
    c.w.raw(TIMEOUT_OUT_OF_RANGE);
    return;
  }
  const endMs = timeoutMs === 0n ? 0 : Math.min(MAX_END_MS, now + Number(timeoutMs));
  c.server.pause.pause(endMs, all);
  c.w.raw(OK);
}

/** CLIENT UNPAUSE — answered once every worker let its paused clients go. */
function clientUnpause(c: Connection): void {
  c.server.pause.unpause();
  c.suspend();
  c.server.ask({ kind: 'clientUnpause' }, () => {
    c.w.raw(OK);
    c.resume();
  });
}

export const entries: readonly TsEntry[] = [
  { name: 'client|list', handler: clientList },
  { name: 'client|kill', handler: clientKill },
  { name: 'client|pause', handler: clientPause },
  { name: 'client|unpause', handler: clientUnpause },
];
