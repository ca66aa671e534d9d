/**
 * Errors that happen before a command reaches the core: unknown command, arity, auth, limits.
 * Command errors (WRONGTYPE, not an integer, ...) belong to the Rust core. Texts are Redis 7's.
 */

const line = (s: string): Buffer => Buffer.from(`-${s}\r\n`, 'latin1');

export const NOAUTH = line('NOAUTH Authentication required.');
export const MAX_CLIENTS = line('ERR max number of clients reached');
/** What a client from outside the host gets in protected mode (networking.c clientAcceptHandler). */
export const PROTECTED_MODE = line(
  'DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. ' +
    'In this mode connections are only accepted from the loopback interface. ' +
    'If you want to connect from external computers to Redis you may adopt one of the following solutions: ' +
    "1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface " +
    'by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible ' +
    'from internet if you do so. Use CONFIG REWRITE to make this change permanent. ' +
    '2) Alternatively you can just disable the protected mode by editing the Redis configuration file, ' +
    "and setting the protected mode option to 'no', and then restarting the server. " +
    "3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. " +
    '4) Set up an authentication password for the default user. ' +
    'NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.',
);
export const WRONGPASS = line('WRONGPASS invalid username-password pair or user is disabled.');
export const NOPASS_AUTH = line(
  'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?',
);
export const NOPROTO = line('NOPROTO unsupported protocol version');
export const SYNTAX = line('ERR syntax error');
export const NOT_INTEGER = line('ERR value is not an integer or out of range');
export const DB_OUT_OF_RANGE = line('ERR DB index is out of range');
export const HELLO_NOAUTH = line(
  'NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time',
);
export const BAD_CLIENT_NAME = line('ERR Client names cannot contain spaces, newlines or special characters.');
export const NO_SUCH_CLIENT = line('ERR No such client');
export const UNBLOCK_REASON = line('ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR');
export const INVALID_CLIENT_ID = line('ERR Invalid client ID');
export const CLIENT_ID_NOT_POSITIVE = line('ERR client-id should be greater than 0');
/** CLIENT KILL MAXAGE, as Redis 7.4 words it (7.2 has no MAXAGE). */
export const MAXAGE_NOT_INTEGER = line('ERR maxage is not an integer or out of range');
export const MAXAGE_NOT_POSITIVE = line('ERR maxage should be greater than 0');
export const PAUSE_MODE = line('ERR CLIENT PAUSE mode must be WRITE or ALL');
/** getTimeoutFromObjectOrReply (timeout.c) for a timeout in milliseconds. */
export const TIMEOUT_NOT_INTEGER = line('ERR timeout is not an integer or out of range');
export const TIMEOUT_NEGATIVE = line('ERR timeout is negative');
export const TIMEOUT_OUT_OF_RANGE = line('ERR timeout is out of range');

/** Redis replaces CR and LF in echoed client text so that a reply can never break framing. */
function sanitize(s: string): string {
  return s.replace(/[\r\n]/g, ' ');
}

/** Redis formats echoed arguments with `%s`, so the text stops at a NUL byte. */
function cString(s: string): string {
  const nul = s.indexOf('\0');
  return nul < 0 ? s : s.slice(0, nul);
}

/** `ERR unknown command 'x', with args beginning with: 'a' 'b' ` (server.c processCommand). */
export function unknownCommand(name: string, args: readonly string[]): string {
  let list = '';
  for (let i = 0; i < args.length && list.length < 128; i++) {
    list += `'${cString(args[i] as string).slice(0, 128 - list.length)}' `;
  }
  return sanitize(`ERR unknown command '${cString(name).slice(0, 128)}', with args beginning with: ${list}`);
}

/** `ERR unknown subcommand 'x'. Try CONTAINER HELP.` */
export function unknownSubcommand(container: string, sub: string): string {
  return sanitize(`ERR unknown subcommand '${cString(sub).slice(0, 128)}'. Try ${container.toUpperCase()} HELP.`);
}

/** `ERR Unknown client type 'x'` (CLIENT LIST / CLIENT KILL TYPE). */
export function unknownClientType(name: string): string {
  return sanitize(`ERR Unknown client type '${cString(name)}'`);
}

/** `ERR No such user 'x'` (CLIENT KILL USER). */
export function noSuchUser(name: string): string {
  return sanitize(`ERR No such user '${cString(name)}'`);
}

/** `ERR wrong number of arguments for 'name' command` (name is the full name, e.g. `client|kill`). */
export function wrongArity(name: string): string {
  return `ERR wrong number of arguments for '${name}' command`;
}

/** `ERR unknown subcommand or wrong number of arguments for 'x'. Try CONTAINER HELP.` (addReplySubcommandSyntaxError). */
export function subcommandSyntax(container: string, sub: string): string {
  return sanitize(
    `ERR unknown subcommand or wrong number of arguments for '${cString(sub).slice(0, 128)}'. Try ${container.toUpperCase()} HELP.`,
  );
}

/** A protected command (DEBUG) refused by its `enable-*-command` setting (server.c processCommand). */
export function protectedCommand(command: string, option: string): string {
  return (
    `ERR ${command} command not allowed. If the ${option} option is set to "local", you can run it from a local ` +
    'connection, otherwise you need to set this option in the configuration file, and then restart the server.'
  );
}

/** multi.c's replies for transactions used wrongly (Redis 7.2's texts). */
export const EXEC_WITHOUT_MULTI = line('ERR EXEC without MULTI');
export const DISCARD_WITHOUT_MULTI = line('ERR DISCARD without MULTI');
export const MULTI_NESTED = line('ERR MULTI calls can not be nested');
export const WATCH_INSIDE_MULTI = line('ERR WATCH inside MULTI is not allowed');
export const EXECABORT = line('EXECABORT Transaction discarded because of previous errors.');
/** A command flagged `no_multi` sent inside MULTI (server.c processCommand). */
export const NOT_IN_TRANSACTION = 'ERR Command not allowed inside a transaction';

/** EXEC refused before it ran: `EXECABORT Transaction discarded because of: <why>` (multi.c execCommandAbort). */
export function execAbortBecause(why: string): string {
  return `EXECABORT Transaction discarded because of: ${why}`;
}

/** A monitor (a replica to Redis) sent a command that reads or writes keys. */
export const REPLICA_KEYSPACE = "ERR Replica can't interact with the keyspace";
