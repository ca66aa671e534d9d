// The Tair compatibility suite: its case format, which cases run, and how a command
// line becomes the arguments sent to the server.
//
// Every rule here copies the reference runner (tair-opensource/resp-compatibility,
// resp_compatibility.py), so that a score from this runner means the same as theirs:
// flags are tested by presence, not truth ('skipped' in test); versions compare as
// plain strings; lines split on single spaces with quote characters toggling a quoted
// run. Talking to the server and comparing replies live elsewhere (resp2-client.ts,
// compare.ts).

import { readFileSync } from 'node:fs';
import { COMMAND_GROUPS } from './command-groups.generated';

/** A JSON value as stored in an expected result. */
export type Json = string | number | boolean | null | readonly Json[] | { readonly [k: string]: Json };

/** One case of the suite, as stored in tair-cts.json. Flag fields count by presence. */
export interface SuiteCase {
  readonly name: string;
  /** Command lines, run in order on one connection. */
  readonly command: readonly string[];
  /** The expected reply of each command line, one-to-one. */
  readonly result: readonly Json[];
  /** The Redis version that introduced the feature. */
  readonly since: string;
  /** "standalone" or "cluster": run only in that mode. */
  readonly tags?: Json;
  readonly skipped?: Json;
  readonly sort_result?: Json;
  readonly command_binary?: Json;
  readonly float_result?: Json;
}

/** Server modes, as the reference runner's --cluster switch picks them. */
export type Mode = 'standalone' | 'cluster';

/** Why a case does not run, in the order the reference runner checks. */
export type SkipReason = 'skipped' | 'tags' | 'version';

/** A command line that cannot be turned into arguments (the reference runner raises). */
export class CommandLineError extends Error {
  override readonly name = 'CommandLineError';
}

/** The suite file cannot be read, is not JSON, or holds a malformed case. */
export class SuiteError extends Error {
  override readonly name = 'SuiteError';
}

/** Reads and checks a suite file; throws SuiteError, naming the case index when a case is malformed. */
export function loadSuite(path: string): SuiteCase[] {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new SuiteError(`${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!Array.isArray(data)) throw new SuiteError(`${path}: expected a JSON array of cases`);
  return data.map((c: unknown, i) => checkCase(c, `${path}[${i}]`));
}

function checkCase(c: unknown, where: string): SuiteCase {
  if (typeof c !== 'object' || c === null || Array.isArray(c)) throw new SuiteError(`${where}: not an object`);
  const o = c as Record<string, unknown>;
  if (typeof o.name !== 'string') throw new SuiteError(`${where}: 'name' must be a string`);
  if (!Array.isArray(o.command) || !o.command.every((l) => typeof l === 'string')) {
    throw new SuiteError(`${where} (${o.name}): 'command' must be a list of strings`);
  }
  if (!Array.isArray(o.result)) throw new SuiteError(`${where} (${o.name}): 'result' must be a list`);
  if (typeof o.since !== 'string') throw new SuiteError(`${where} (${o.name}): 'since' must be a string`);
  return o as unknown as SuiteCase;
}

/** Whether a case runs: skipped first, then tags against the mode, then since <= version. */
export function skipReason(c: SuiteCase, mode: Mode, version: string | undefined): SkipReason | undefined {
  if ('skipped' in c) return 'skipped';
  // The reference compares the whole tag with ==, so only the plain strings exclude.
  if ('tags' in c && ((mode === 'cluster' && c.tags === 'standalone') || (mode === 'standalone' && c.tags === 'cluster'))) {
    return 'tags';
  }
  // Plain string comparison, as in Python: '2.10.0' > '2.8.0' is false there too.
  if (version !== undefined && c.since > version) return 'version';
  return undefined;
}

const QUOTE = 0x22;
const SPACE = 0x20;

/**
 * Splits a text command line: single spaces separate words, a double quote toggles a
 * quoted run and is dropped. Runs of spaces give empty words, as in the reference.
 */
export function splitLine(line: string): string[] {
  const parts: string[] = [];
  let inQuote = false;
  let current = '';
  for (let i = 0; i < line.length; i++) {
    const ch = line.charCodeAt(i);
    if (ch === QUOTE) inQuote = !inQuote;
    else if (ch === SPACE && !inQuote) {
      parts.push(current);
      current = '';
    } else current += line[i];
  }
  parts.push(current);
  return parts;
}

/** splitLine on bytes, for command_binary lines after unescapeBinary. */
export function splitBytes(line: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  let inQuote = false;
  let current: number[] = [];
  for (const b of line) {
    if (b === QUOTE) inQuote = !inQuote;
    else if (b === SPACE && !inQuote) {
      parts.push(Buffer.from(current));
      current = [];
    } else current.push(b);
  }
  parts.push(Buffer.from(current));
  return parts;
}

const ESCAPES: Readonly<Record<string, number>> = { '\\': 0x5c, '"': 0x22, n: 0x0a, r: 0x0d, t: 0x09, a: 0x07, b: 0x08 };
const HEX = /^[0-9A-Fa-f]$/;

/**
 * Turns a command_binary line into bytes: \\ \" \n \r \t \a \b and \xHH, anything
 * else as one byte. As in the reference, a backslash at the very end, a short or
 * non-hex \x, or a character above U+00FF is an error (it fails the case), and an
 * unknown escape keeps its backslash.
 */
export function unescapeBinary(line: string): Buffer {
  const out: number[] = [];
  let i = 0;
  while (i < line.length) {
    const ch = line[i] as string;
    if (ch === '\\') {
      const next = line[i + 1];
      if (next === undefined) throw new CommandLineError(`trailing backslash in ${JSON.stringify(line)}`);
      const esc = ESCAPES[next];
      if (esc !== undefined) {
        out.push(esc);
        i += 2;
        continue;
      }
      if (next === 'x') {
        const hi = line[i + 2];
        const lo = line[i + 3];
        if (hi === undefined || lo === undefined || !HEX.test(hi) || !HEX.test(lo)) {
          throw new CommandLineError(`bad \\x escape at ${i} in ${JSON.stringify(line)}`);
        }
        out.push(Number.parseInt(hi + lo, 16));
        i += 4;
        continue;
      }
    }
    const code = line.charCodeAt(i);
    // Python's bytearray.append(ord(c)) takes 0..255 only; a UTF-16 surrogate is above that too.
    if (code > 0xff) throw new CommandLineError(`character U+${code.toString(16).padStart(4, '0')} in a binary line`);
    out.push(code);
    i++;
  }
  return Buffer.from(out);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The arguments a command line sends. Text words go as UTF-8; with command_binary the
 * words are the unescaped bytes, except the name, which must be valid UTF-8 text.
 */
export function commandArgs(c: SuiteCase, line: string): Buffer[] {
  if ('command_binary' in c) {
    const parts = splitBytes(unescapeBinary(line));
    try {
      UTF8.decode(parts[0]);
    } catch {
      throw new CommandLineError(`command name is not UTF-8 in ${JSON.stringify(line)}`);
    }
    return parts;
  }
  // Python's str.encode() refuses lone surrogates; Buffer.from would replace them.
  if (LONE_SURROGATE.test(line)) throw new CommandLineError(`lone surrogate in ${JSON.stringify(line)}`);
  return splitLine(line).map((w) => Buffer.from(w, 'utf8'));
}

/**
 * The Redis command group of a case's last command line ('string', 'sorted_set', ...):
 * a container's subcommand group when the second word names one, 'unknown' otherwise.
 */
export function caseGroup(c: SuiteCase, groups: ReadonlyMap<string, string> = COMMAND_GROUPS): string {
  const last = c.command[c.command.length - 1];
  if (last === undefined) return 'unknown';
  const [first = '', second] = splitLine(last);
  const name = first.toLowerCase();
  if (second !== undefined) {
    const sub = groups.get(`${name}|${second.toLowerCase()}`);
    if (sub !== undefined) return sub;
  }
  return groups.get(name) ?? 'unknown';
}
