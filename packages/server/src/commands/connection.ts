/**
 * Redis's `connection` group, handled in TypeScript because it is connection state:
 * PING, ECHO, HELLO, AUTH, SELECT, QUIT, RESET and the CLIENT subcommands.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { UNBLOCK_ERROR, UNBLOCK_TIMEOUT } from '../blocking';
import { type Connection, ReplyMode } from '../connection';
import {
  BAD_CLIENT_NAME,
  DB_OUT_OF_RANGE,
  HELLO_NOAUTH,
  NOPASS_AUTH,
  NOPROTO,
  NOT_INTEGER,
  SYNTAX,
  subcommandSyntax,
  UNBLOCK_REASON,
  WRONGPASS,
  wrongArity,
} from '../errors';
import { replyHelp } from './help';
import { protocolChanged, unsubscribeAllQuietly } from './pubsub';
import { disableTracking } from './tracking';
import { discardTransaction } from './transaction';
import type { TsEntry } from './types';

/** The Redis version Shrike answers as (HELLO, INFO): the 7.2 command set it follows. */
export const REDIS_VERSION = '7.2.4';

const PONG = Buffer.from('+PONG\r\n');
const OK = Buffer.from('+OK\r\n');

/** Parse a whole decimal integer as Redis's string2ll does (no spaces, no '+'). */
export function parseInteger(b: Buffer): number | undefined {
  const s = b.toString('latin1');
  if (!/^-?(0|[1-9]\d{0,18})$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

const lower = (b: Buffer | undefined): string => (b === undefined ? '' : b.toString('latin1').toLowerCase());

/** PING [message] */
function ping(c: Connection, argv: Buffer[]): void {
  // The table's arity is -1; Redis's pingCommand rejects a second argument itself.
  if (argv.length > 2) {
    c.w.error(wrongArity('ping'));
    return;
  }
  const msg = argv[1];
  if (c.proto === 2 && c.sub + c.psub + c.ssub > 0) {
    // A RESP2 subscriber reads every frame as a message: pingCommand answers in that shape.
    c.w.arrayHeader(2);
    c.w.bulk('pong');
    c.w.bulk(msg ?? '');
  } else if (msg === undefined) c.w.raw(PONG);
  else c.w.bulk(msg);
}

/** ECHO message */
function echo(c: Connection, argv: Buffer[]): void {
  c.w.bulk(argv[1] as Buffer);
}

/** SHA-256 of a password's bytes: equal-length inputs for timingSafeEqual, as Redis compares ACL password hashes. */
function passwordDigest(pass: Buffer): Buffer {
  return createHash('sha256').update(pass).digest();
}

/**
 * Password check against requirepass (the only user is `default`). Config strings are text
 * decoded from UTF-8 (file, argv, CONFIG SET), so requirepass is compared as its UTF-8 bytes
 * against the client's bytes, and in constant time, so that timing tells nothing about it.
 */
function checkPassword(c: Connection, user: Buffer | undefined, pass: Buffer): boolean {
  const requirepass = c.server.config.requirepass;
  const userOk = user === undefined || user.toString('latin1') === 'default';
  // With no requirepass, the default user is `nopass`: any password is accepted for it.
  if (requirepass === '') return userOk;
  const passOk = timingSafeEqual(passwordDigest(pass), passwordDigest(Buffer.from(requirepass, 'utf8')));
  return userOk && passOk;
}

/** AUTH [username] password */
function auth(c: Connection, argv: Buffer[]): void {
  if (argv.length > 3) {
    c.w.raw(SYNTAX);
    return;
  }
  const user = argv.length === 3 ? argv[1] : undefined;
  const pass = argv[argv.length - 1] as Buffer;
  if (user === undefined && c.server.config.requirepass === '') {
    c.w.raw(NOPASS_AUTH);
    return;
  }
  if (!checkPassword(c, user, pass)) {
    c.w.raw(WRONGPASS);
    return;
  }
  c.authenticated = true;
  c.w.raw(OK);
}

/** HELLO [protover [AUTH username password] [SETNAME clientname]] */
function hello(c: Connection, argv: Buffer[]): void {
  let proto: 2 | 3 = c.proto;
  let i = 1;
  if (argv.length >= 2) {
    const v = parseInteger(argv[1] as Buffer);
    if (v === undefined) {
      c.w.error('ERR Protocol version is not an integer or out of range');
      return;
    }
    if (v !== 2 && v !== 3) {
      c.w.raw(NOPROTO);
      return;
    }
    proto = v;
    i = 2;
  }
  let name: Buffer | undefined;
  let authUser: Buffer | undefined;
  let authPass: Buffer | undefined;
  for (; i < argv.length; i++) {
    const opt = lower(argv[i]);
    const more = argv.length - i - 1;
    if (opt === 'auth' && more >= 2) {
      authUser = argv[++i];
      authPass = argv[++i];
    } else if (opt === 'setname' && more >= 1) {
      name = argv[++i];
    } else {
      c.w.error(`ERR Syntax error in HELLO option '${(argv[i] as Buffer).toString('latin1')}'`);
      return;
    }
  }
  if (authPass !== undefined) {
    if (!checkPassword(c, authUser, authPass)) {
      c.w.raw(WRONGPASS);
      return;
    }
    c.authenticated = true;
  }
  if (!c.authenticated) {
    c.w.raw(HELLO_NOAUTH);
    return;
  }
  if (name !== undefined) {
    if (!validName(name)) {
      c.w.raw(BAD_CLIENT_NAME);
      return;
    }
    c.name = name.toString('latin1');
  }
  c.proto = proto;
  protocolChanged(c);
  const w = c.w;
  w.mapHeader(7);
  w.bulk('server');
  w.bulk('redis');
  w.bulk('version');
  w.bulk(REDIS_VERSION);
  w.bulk('proto');
  w.integer(proto);
  w.bulk('id');
  w.integer(c.id);
  w.bulk('mode');
  w.bulk('standalone');
  w.bulk('role');
  w.bulk('master');
  w.bulk('modules');
  w.arrayHeader(0);
}

/** SELECT index */
function select(c: Connection, argv: Buffer[]): void {
  const db = parseInteger(argv[1] as Buffer);
  if (db === undefined) {
    c.w.raw(NOT_INTEGER);
    return;
  }
  if (db < 0 || db >= c.server.config.databases) {
    c.w.raw(DB_OUT_OF_RANGE);
    return;
  }
  c.db = db;
  c.w.raw(OK);
}

/** QUIT */
function quit(c: Connection): void {
  c.w.raw(OK);
  c.closeAfterReply = true;
}

/** RESET */
function reset(c: Connection): void {
  unsubscribeAllQuietly(c);
  // Redis's clearClientConnectionState: out of MULTI, no watched keys.
  discardTransaction(c);
  // clearClientConnectionState turns tracking off.
  disableTracking(c);
  c.db = 0;
  c.proto = 2;
  c.name = '';
  c.noTouch = false;
  c.noEvict = false;
  // Like Redis's clearClientConnectionState, RESET clears OFF and SKIP_NEXT but not a SKIP in
  // effect, so RESET's own reply is skipped after CLIENT REPLY SKIP.
  if (c.replyMode !== ReplyMode.Skip) c.replyMode = ReplyMode.On;
  c.skipNext = false;
  c.authenticated = c.server.config.requirepass === '';
  c.stopMonitor();
  c.w.simple('RESET');
}

/** Client names may not hold spaces, newlines or other characters outside '!'..'~' (Redis's validateClientName). */
function validName(b: Buffer): boolean {
  for (const ch of b) if (ch < 0x21 || ch > 0x7e) return false;
  return true;
}

/** CLIENT ID */
function clientId(c: Connection): void {
  c.w.integer(c.id);
}

/** CLIENT SETNAME connection-name */
function clientSetname(c: Connection, argv: Buffer[]): void {
  const name = argv[2] as Buffer;
  if (!validName(name)) {
    c.w.raw(BAD_CLIENT_NAME);
    return;
  }
  c.name = name.toString('latin1');
  c.w.raw(OK);
}

/** CLIENT GETNAME */
function clientGetname(c: Connection): void {
  if (c.name === '') c.w.null();
  else c.w.bulk(c.name);
}

/** CLIENT INFO */
function clientInfo(c: Connection): void {
  c.w.verbatim('txt', `${c.infoLine(true)}\n`);
}

/** CLIENT SETINFO <LIB-NAME libname | LIB-VER libver> */
function clientSetinfo(c: Connection, argv: Buffer[]): void {
  const attr = lower(argv[2]);
  const value = argv[3] as Buffer;
  if (attr !== 'lib-name' && attr !== 'lib-ver') {
    c.w.error(`ERR Unrecognized option '${(argv[2] as Buffer).toString('latin1')}'`);
    return;
  }
  if (!validName(value) && value.length > 0) {
    c.w.error(`ERR ${attr} cannot contain spaces, newlines or special characters.`);
    return;
  }
  if (attr === 'lib-name') c.libName = value.toString('latin1');
  else c.libVer = value.toString('latin1');
  c.w.raw(OK);
}

/** CLIENT REPLY ON|OFF|SKIP */
function clientReply(c: Connection, argv: Buffer[]): void {
  const mode = lower(argv[2]);
  if (mode === 'on') {
    c.replyMode = ReplyMode.On;
    c.w.raw(OK);
  } else if (mode === 'off') c.replyMode = ReplyMode.Off;
  else if (mode === 'skip') {
    if (c.replyMode !== ReplyMode.Off) c.skipNext = true;
  } else c.w.raw(SYNTAX);
}

function onOff(c: Connection, argv: Buffer[], set: (on: boolean) => void): void {
  const v = lower(argv[2]);
  if (v !== 'on' && v !== 'off') {
    c.w.raw(SYNTAX);
    return;
  }
  set(v === 'on');
  c.w.raw(OK);
}

/** CLIENT NO-EVICT ON|OFF */
function clientNoEvict(c: Connection, argv: Buffer[]): void {
  onOff(c, argv, (on) => {
    c.noEvict = on;
  });
}

/** CLIENT NO-TOUCH ON|OFF */
function clientNoTouch(c: Connection, argv: Buffer[]): void {
  onOff(c, argv, (on) => {
    c.noTouch = on;
  });
}

/** CLIENT UNBLOCK client-id [TIMEOUT | ERROR]: ends a block on any worker; 1 when it did. */
function clientUnblock(c: Connection, argv: Buffer[]): void {
  if (argv.length > 4) {
    c.w.error(subcommandSyntax('client', (argv[1] as Buffer).toString('latin1')));
    return;
  }
  let how = UNBLOCK_TIMEOUT;
  if (argv.length === 4) {
    const reason = lower(argv[3]);
    if (reason === 'error') how = UNBLOCK_ERROR;
    else if (reason !== 'timeout') {
      c.w.raw(UNBLOCK_REASON);
      return;
    }
  }
  const text = (argv[2] as Buffer).toString('latin1');
  if (!/^-?(0|[1-9]\d{0,18})$/.test(text) || BigInt(text) > 9223372036854775807n || BigInt(text) < -9223372036854775808n) {
    c.w.raw(NOT_INTEGER);
    return;
  }
  // An id past 2^53 names no client (ids count up from 1).
  const id = parseInteger(argv[2] as Buffer);
  c.w.integer(id !== undefined && id > 0 && c.server.addon.unblockClient(id, how) ? 1 : 0);
}

/** CLIENT HELP — Redis 7.2's text, which also names subcommands Shrike does not have yet. */
function clientHelp(c: Connection): void {
  replyHelp(c.w, 'client', [
    'CACHING (YES|NO)',
    '    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.',
    'GETREDIR',
    '    Return the client ID we are redirecting to when tracking is enabled.',
    'GETNAME',
    '    Return the name of the current connection.',
    'ID',
    '    Return the ID of the current connection.',
    'INFO',
    '    Return information about the current client connection.',
    'KILL <ip:port>',
    '    Kill connection made from <ip:port>.',
    'KILL <option> <value> [<option> <value> [...]]',
    '    Kill connections. Options are:',
    '    * ADDR (<ip:port>|<unixsocket>:0)',
    '      Kill connections made from the specified address',
    '    * LADDR (<ip:port>|<unixsocket>:0)',
    '      Kill connections made to specified local address',
    '    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)',
    '      Kill connections by type.',
    '    * USER <username>',
    '      Kill connections authenticated by <username>.',
    '    * SKIPME (YES|NO)',
    '      Skip killing current connection (default: yes).',
    'LIST [options ...]',
    '    Return information about client connections. Options:',
    '    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)',
    '      Return clients of specified type.',
    'UNPAUSE',
    '    Stop the current client pause, resuming traffic.',
    'PAUSE <timeout> [WRITE|ALL]',
    '    Suspend all, or just write, clients for <timeout> milliseconds.',
    'REPLY (ON|OFF|SKIP)',
    '    Control the replies sent to the current connection.',
    'SETNAME <name>',
    '    Assign the name <name> to the current connection.',
    'SETINFO <option> <value>',
    '    Set client meta attr. Options are:',
    '    * LIB-NAME: the client lib name.',
    '    * LIB-VER: the client lib version.',
    'UNBLOCK <clientid> [TIMEOUT|ERROR]',
    '    Unblock the specified blocked client.',
    'TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]',
    '         [OPTIN] [OPTOUT] [NOLOOP]',
    '    Control server assisted client side caching.',
    'TRACKINGINFO',
    '    Report tracking status for the current connection.',
    'NO-EVICT (ON|OFF)',
    '    Protect current client connection from eviction.',
    'NO-TOUCH (ON|OFF)',
    '    Will not touch LRU/LFU stats when this mode is on.',
  ]);
}

export const entries: readonly TsEntry[] = [
  { name: 'ping', handler: ping },
  { name: 'echo', handler: echo },
  { name: 'auth', handler: auth },
  { name: 'hello', handler: hello },
  { name: 'select', handler: select },
  { name: 'quit', handler: quit },
  { name: 'reset', handler: reset },
  { name: 'client|id', handler: clientId },
  { name: 'client|setname', handler: clientSetname },
  { name: 'client|getname', handler: clientGetname },
  { name: 'client|info', handler: clientInfo },
  { name: 'client|setinfo', handler: clientSetinfo },
  { name: 'client|reply', handler: clientReply },
  { name: 'client|no-evict', handler: clientNoEvict },
  { name: 'client|no-touch', handler: clientNoTouch },
  { name: 'client|help', handler: clientHelp },
  { name: 'client|unblock', handler: clientUnblock },
];
