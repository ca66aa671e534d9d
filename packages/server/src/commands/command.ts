/**
 * The COMMAND command: COMMAND, COUNT, INFO, DOCS, LIST, GETKEYS, GETKEYSANDFLAGS.
 *
 * Replies are shaped as Redis 7.2 builds them in src/server.c (addReplyCommandInfo,
 * addReplyCommandDocs, addReplyCommandKeySpecs, commandListCommand, getKeysSubcommandImpl)
 * from the generated spec table, in RESP2 and RESP3 alike; the ReplyWriter decides the
 * difference (sets and maps). Key extraction (COMMAND GETKEYS) is the core's, the same
 * that decides which segments a command locks: this file only resolves the command by name
 * and writes the reply. Which commands exist is the caller's business: it passes the
 * implemented top-level specs and a lookup for full names ('client|kill').
 *
 * None of this is on the hot path; clarity wins over allocation here.
 */

import type { ReplyWriter } from '@shrike/resp3';
import { type Addon, loadAddon } from '../core';
import { ACL_CATEGORIES, type ArgSpec, COMMAND_SPECS, type CommandSpec, KEY_SPEC_FLAG_NAMES, type KeySpec } from './spec.generated';

/** Resolves a full lower-case command name ('get', 'client|kill') to its spec. */
export type SpecLookup = (name: string) => CommandSpec | undefined;

/** Every Redis 7.2 command: the default when the caller has no narrower lookup. */
const ALL_SPECS: SpecLookup = (name) => COMMAND_SPECS.get(name);

// Flags Redis keeps but addReplyFlagsForCommand hides ("Hidden on purpose").
const HIDDEN_FLAGS = new Set(['may_replicate', 'sentinel', 'only_sentinel', 'protected', 'touches_arbitrary_keys']);

/** COMMAND — every implemented command's info. */
export function commandAll(w: ReplyWriter, specs: readonly CommandSpec[], lookup: SpecLookup = ALL_SPECS): void {
  w.arrayHeader(specs.length);
  for (const spec of specs) writeInfo(w, spec, lookup);
}

/** COMMAND COUNT — the number of top-level commands. */
export function commandCount(w: ReplyWriter, specs: readonly CommandSpec[]): void {
  w.integer(specs.length);
}

/** COMMAND INFO [command-name ...] — info per name, null for an unknown one; all commands without names. */
export function commandInfo(w: ReplyWriter, specs: readonly CommandSpec[], names: readonly Buffer[], lookup: SpecLookup = ALL_SPECS): void {
  if (names.length === 0) {
    commandAll(w, specs, lookup);
    return;
  }
  const index = indexByName(specs);
  w.arrayHeader(names.length);
  for (const name of names) {
    const spec = lookupByFullName(index, name, lookup);
    if (spec === undefined) w.null();
    else writeInfo(w, spec, lookup);
  }
}

/** COMMAND DOCS [command-name ...] — a map of name to docs; unknown names are left out. */
export function commandDocs(w: ReplyWriter, specs: readonly CommandSpec[], names: readonly Buffer[], lookup: SpecLookup = ALL_SPECS): void {
  let found: readonly CommandSpec[] = specs;
  if (names.length > 0) {
    const index = indexByName(specs);
    const some: CommandSpec[] = [];
    for (const name of names) {
      const spec = lookupByFullName(index, name, lookup);
      if (spec !== undefined) some.push(spec);
    }
    found = some;
  }
  w.mapHeader(found.length);
  for (const spec of found) {
    w.bulk(spec.name);
    writeDocs(w, spec, lookup);
  }
}

/** COMMAND LIST [FILTERBY MODULE module-name | ACLCAT category | PATTERN pattern] — names, subcommands included. */
export function commandList(
  w: ReplyWriter,
  specs: readonly CommandSpec[],
  filter: readonly Buffer[],
  lookup: SpecLookup = ALL_SPECS,
): void {
  let keep: (spec: CommandSpec) => boolean = () => true;
  // Redis's parser accepts exactly one FILTERBY with two more arguments; anything else is a syntax error.
  if (filter.length > 0) {
    const [opt, type, arg] = filter;
    if (filter.length !== 3 || opt === undefined || type === undefined || arg === undefined || !cstrEquals(opt, 'filterby')) {
      w.error('ERR syntax error');
      return;
    }
    if (cstrEquals(type, 'module')) {
      keep = () => false; // no modules are loaded, so no command belongs to one
    } else if (cstrEquals(type, 'aclcat')) {
      const cat = aclCategoryName(arg);
      keep = (spec) => cat !== undefined && spec.aclCategories.includes(cat);
    } else if (cstrEquals(type, 'pattern')) {
      keep = (spec) => stringMatch(arg, Buffer.from(spec.name, 'latin1'), true);
    } else {
      w.error('ERR syntax error');
      return;
    }
  }
  const names: string[] = [];
  for (const spec of specs) {
    if (keep(spec)) names.push(spec.name);
    for (const sub of subcommandsOf(spec, lookup)) if (keep(sub)) names.push(sub.name);
  }
  w.arrayHeader(names.length);
  for (const name of names) w.bulk(name);
}

/** COMMAND GETKEYS command [arg ...] — the keys of a full command; argv starts at the command's name. */
export function commandGetKeys(w: ReplyWriter, lookup: SpecLookup, argv: readonly Buffer[]): void {
  getKeysReply(w, lookup, argv, false);
}

/** COMMAND GETKEYSANDFLAGS command [arg ...] — each key with its key-spec flags; argv starts at the command's name. */
export function commandGetKeysAndFlags(w: ReplyWriter, lookup: SpecLookup, argv: readonly Buffer[]): void {
  getKeysReply(w, lookup, argv, true);
}

// ---------------------------------------------------------------------------------------
// COMMAND INFO and COMMAND DOCS

/** addReplyCommandInfo: a 10-element array. */
function writeInfo(w: ReplyWriter, spec: CommandSpec, lookup: SpecLookup): void {
  w.arrayHeader(10);
  w.bulk(spec.name);
  w.integer(spec.arity);
  const flags = spec.flags.filter((f) => !HIDDEN_FLAGS.has(f));
  w.setHeader(flags.length);
  for (const f of flags) w.simple(f);
  w.integer(spec.firstKey);
  w.integer(spec.lastKey);
  w.integer(spec.step);
  w.setHeader(spec.aclCategories.length);
  for (const c of spec.aclCategories) w.simple(c);
  w.setHeader(spec.tips.length);
  for (const t of spec.tips) w.bulk(t);
  writeKeySpecs(w, spec.keySpecs);
  const subs = subcommandsOf(spec, lookup);
  // addReplyCommandSubCommands: an empty set when there are none, an array otherwise.
  if (subs.length === 0) {
    w.setHeader(0);
    return;
  }
  w.arrayHeader(subs.length);
  for (const sub of subs) writeInfo(w, sub, lookup);
}

/** addReplyCommandKeySpecs. */
function writeKeySpecs(w: ReplyWriter, keySpecs: readonly KeySpec[]): void {
  w.setHeader(keySpecs.length);
  for (const ks of keySpecs) {
    w.mapHeader(ks.notes === undefined ? 3 : 4);
    if (ks.notes !== undefined) {
      w.bulk('notes');
      w.bulk(ks.notes);
    }
    w.bulk('flags');
    w.setHeader(ks.flags.length);
    for (const f of ks.flags) w.simple(f);

    w.bulk('begin_search');
    w.mapHeader(2);
    w.bulk('type');
    w.bulk(ks.begin_search.type);
    w.bulk('spec');
    const bs = ks.begin_search;
    if (bs.type === 'index') {
      w.mapHeader(1);
      w.bulk('index');
      w.integer(bs.spec.index);
    } else if (bs.type === 'keyword') {
      w.mapHeader(2);
      w.bulk('keyword');
      w.bulk(bs.spec.keyword);
      w.bulk('startfrom');
      w.integer(bs.spec.startfrom);
    } else {
      w.mapHeader(0);
    }

    w.bulk('find_keys');
    w.mapHeader(2);
    w.bulk('type');
    w.bulk(ks.find_keys.type);
    w.bulk('spec');
    const fk = ks.find_keys;
    if (fk.type === 'range') {
      w.mapHeader(3);
      w.bulk('lastkey');
      w.integer(fk.spec.lastkey);
      w.bulk('keystep');
      w.integer(fk.spec.keystep);
      w.bulk('limit');
      w.integer(fk.spec.limit);
    } else if (fk.type === 'keynum') {
      w.mapHeader(3);
      w.bulk('keynumidx');
      w.integer(fk.spec.keynumidx);
      w.bulk('firstkey');
      w.integer(fk.spec.firstkey);
      w.bulk('keystep');
      w.integer(fk.spec.keystep);
    } else {
      w.mapHeader(0);
    }
  }
}

/** addReplyCommandDocs: a map with only the fields the command has, group always. */
function writeDocs(w: ReplyWriter, spec: CommandSpec, lookup: SpecLookup): void {
  const subs = subcommandsOf(spec, lookup);
  const history = spec.history ?? [];
  const args = spec.arguments ?? [];
  const docFlags = spec.docFlags ?? [];
  let n = 1;
  if (spec.summary !== '') n++;
  if (spec.since !== '') n++;
  if (spec.complexity !== undefined) n++;
  if (docFlags.length > 0) n++;
  if (spec.deprecatedSince !== undefined) n++;
  if (spec.replacedBy !== undefined) n++;
  if (history.length > 0) n++;
  if (args.length > 0) n++;
  if (subs.length > 0) n++;
  w.mapHeader(n);
  if (spec.summary !== '') {
    w.bulk('summary');
    w.bulk(spec.summary);
  }
  if (spec.since !== '') {
    w.bulk('since');
    w.bulk(spec.since);
  }
  w.bulk('group');
  // COMMAND_GROUP_STR in commands.def spells this one group with a dash.
  w.bulk(spec.group === 'sorted_set' ? 'sorted-set' : spec.group);
  if (spec.complexity !== undefined) {
    w.bulk('complexity');
    w.bulk(spec.complexity);
  }
  if (docFlags.length > 0) {
    w.bulk('doc_flags');
    w.setHeader(docFlags.length);
    for (const f of docFlags) w.simple(f);
  }
  if (spec.deprecatedSince !== undefined) {
    w.bulk('deprecated_since');
    w.bulk(spec.deprecatedSince);
  }
  if (spec.replacedBy !== undefined) {
    w.bulk('replaced_by');
    w.bulk(spec.replacedBy);
  }
  if (history.length > 0) {
    w.bulk('history');
    w.setHeader(history.length);
    for (const [since, change] of history) {
      w.arrayHeader(2);
      w.bulk(since);
      w.bulk(change);
    }
  }
  if (args.length > 0) {
    w.bulk('arguments');
    writeArgs(w, args);
  }
  if (subs.length > 0) {
    w.bulk('subcommands');
    w.mapHeader(subs.length);
    for (const sub of subs) {
      w.bulk(sub.name);
      writeDocs(w, sub, lookup);
    }
  }
}

/** addReplyCommandArgList. */
function writeArgs(w: ReplyWriter, args: readonly ArgSpec[]): void {
  w.arrayHeader(args.length);
  for (const a of args) {
    const nested = a.type === 'oneof' || a.type === 'block';
    let n = 3; // name, type, and display_text or arguments
    if (a.keySpecIndex !== undefined) n++;
    if (a.token !== undefined) n++;
    if (a.summary !== undefined) n++;
    if (a.since !== undefined) n++;
    if (a.deprecatedSince !== undefined) n++;
    if (a.flags !== undefined) n++;
    w.mapHeader(n);
    w.bulk('name');
    w.bulk(a.name);
    w.bulk('type');
    w.bulk(a.type);
    if (!nested) {
      w.bulk('display_text');
      w.bulk(a.display ?? a.name);
    }
    if (a.keySpecIndex !== undefined) {
      w.bulk('key_spec_index');
      w.integer(a.keySpecIndex);
    }
    if (a.token !== undefined) {
      w.bulk('token');
      w.bulk(a.token);
    }
    if (a.summary !== undefined) {
      w.bulk('summary');
      w.bulk(a.summary);
    }
    if (a.since !== undefined) {
      w.bulk('since');
      w.bulk(a.since);
    }
    if (a.deprecatedSince !== undefined) {
      w.bulk('deprecated_since');
      w.bulk(a.deprecatedSince);
    }
    if (a.flags !== undefined) {
      w.bulk('flags');
      w.setHeader(a.flags.length);
      for (const f of a.flags) w.simple(f);
    }
    if (nested) {
      w.bulk('arguments');
      writeArgs(w, a.arguments ?? []);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Name lookup

/** The subcommands of a container that the lookup knows, in the spec's order. */
function subcommandsOf(spec: CommandSpec, lookup: SpecLookup): CommandSpec[] {
  const out: CommandSpec[] = [];
  for (const name of spec.subcommands ?? []) {
    const sub = lookup(name);
    if (sub !== undefined) out.push(sub);
  }
  return out;
}

function indexByName(specs: readonly CommandSpec[]): Map<string, CommandSpec> {
  return new Map(specs.map((s): [string, CommandSpec] => [s.name, s]));
}

/**
 * lookupCommandBySds: 'name' or 'container|sub', case-insensitive, one level only. A
 * container's own name finds the container; 'get|x' finds nothing.
 */
function lookupByFullName(index: ReadonlyMap<string, CommandSpec>, raw: Buffer, lookup: SpecLookup): CommandSpec | undefined {
  const parts = raw.toString('latin1').toLowerCase().split('|');
  const [base, sub] = parts;
  // sdssplitlen gives no parts for an empty name; more than two parts is more than one level.
  if (raw.length === 0 || parts.length > 2 || base === undefined) return undefined;
  const container = index.get(base);
  if (container === undefined || sub === undefined) return container;
  return container.subcommands?.includes(`${base}|${sub}`) ? lookup(`${base}|${sub}`) : undefined;
}

// ---------------------------------------------------------------------------------------
// COMMAND GETKEYS / GETKEYSANDFLAGS

let addon: Addon | undefined;

/** getKeysSubcommandImpl (src/server.c): the keys and errors come from the core. */
function getKeysReply(w: ReplyWriter, lookup: SpecLookup, argv: readonly Buffer[], withFlags: boolean): void {
  const name = lookupForCall(lookup, argv)?.name ?? '';
  addon ??= loadAddon();
  const found = addon.commandGetKeys(name, argv as Buffer[]);
  if (found.error !== undefined) {
    w.error(found.error);
    return;
  }
  w.arrayHeader(found.positions.length);
  for (const [i, pos] of found.positions.entries()) {
    const arg = argv[pos] as Buffer;
    if (!withFlags) {
      w.bulk(arg);
      continue;
    }
    const bits = found.flags[i] ?? 0;
    const names = KEY_SPEC_FLAG_NAMES.filter((_, bit) => (bits & (1 << bit)) !== 0);
    w.arrayHeader(2);
    w.bulk(arg);
    w.setHeader(names.length);
    for (const f of names) w.simple(f);
  }
}

/** lookupCommand: the command a client's argv would run, subcommand included. */
function lookupForCall(lookup: SpecLookup, argv: readonly Buffer[]): CommandSpec | undefined {
  const first = argv[0];
  if (first === undefined) return undefined;
  const name = first.toString('latin1').toLowerCase();
  // The lookup also resolves 'client|kill'; a client's first word never does in Redis.
  if (name.includes('|')) return undefined;
  const base = lookup(name);
  const second = argv[1];
  if (base === undefined || second === undefined || base.subcommands === undefined || base.subcommands.length === 0) return base;
  return lookup(`${name}|${second.toString('latin1').toLowerCase()}`);
}

// ---------------------------------------------------------------------------------------
// C string semantics Redis relies on

/**
 * strcasecmp(arg->ptr, word): ASCII case-insensitive, and the argument ends at its first
 * NUL byte, as a C string does ('get\0x' equals 'get' there).
 */
function cstrEquals(arg: Buffer, word: string): boolean {
  const nul = arg.indexOf(0);
  const len = nul < 0 ? arg.length : nul;
  if (len !== word.length) return false;
  for (let i = 0; i < len; i++) {
    if (lower(arg[i] as number) !== lower(word.charCodeAt(i))) return false;
  }
  return true;
}

function lower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
}

function signedChar(b: number): number {
  return (b << 24) >> 24;
}

/** '@name' for an ACL category name given without '@', case-insensitively (ACLGetCommandCategoryFlagByName). */
function aclCategoryName(arg: Buffer): string | undefined {
  for (const cat of ACL_CATEGORIES) if (cstrEquals(arg, cat)) return `@${cat}`;
  return undefined;
}

/** stringmatchlen (src/util.c, 7.2): Redis's glob, with its nesting limit and early exit. */
export function stringMatch(pattern: Buffer, str: Buffer, nocase: boolean): boolean {
  const skipLonger = { value: false };
  return matchFrom(pattern, 0, str, 0, nocase, skipLonger, 0);
}

function matchFrom(
  p: Buffer,
  pi: number,
  s: Buffer,
  si: number,
  nocase: boolean,
  skipLonger: { value: boolean },
  nesting: number,
): boolean {
  if (nesting > 1000) return false;
  const eq = (a: number, b: number) => (nocase ? lower(a) === lower(b) : a === b);
  // Reads past the end see 0, as C sees the NUL terminator.
  const at = (i: number) => p[i] ?? 0;
  let plen = p.length - pi;
  let slen = s.length - si;
  while (plen > 0 && slen > 0) {
    const c = at(pi);
    if (c === 0x2a /* '*' */) {
      while (plen > 0 && at(pi + 1) === 0x2a) {
        pi++;
        plen--;
      }
      if (plen === 1) return true;
      while (slen > 0) {
        if (matchFrom(p, pi + 1, s, si, nocase, skipLonger, nesting + 1)) return true;
        if (skipLonger.value) return false;
        si++;
        slen--;
      }
      skipLonger.value = true;
      return false;
    }
    if (c === 0x3f /* '?' */) {
      si++;
      slen--;
    } else if (c === 0x5b /* '[' */) {
      pi++;
      plen--;
      const not = at(pi) === 0x5e; /* '^' */
      if (not) {
        pi++;
        plen--;
      }
      let match = false;
      const sc = s[si] as number;
      for (;;) {
        if (at(pi) === 0x5c /* '\\' */ && plen >= 2) {
          pi++;
          plen--;
          if (at(pi) === sc) match = true;
        } else if (at(pi) === 0x5d /* ']' */) {
          break;
        } else if (plen === 0) {
          pi--;
          plen++;
          break;
        } else if (plen >= 3 && at(pi + 1) === 0x2d /* '-' */) {
          // Redis compares ranges as (signed) C chars.
          let start = signedChar(at(pi));
          let end = signedChar(at(pi + 2));
          let ch = signedChar(sc);
          if (start > end) [start, end] = [end, start];
          if (nocase) {
            start = lower(start);
            end = lower(end);
            ch = lower(ch);
          }
          pi += 2;
          plen -= 2;
          if (ch >= start && ch <= end) match = true;
        } else if (eq(at(pi), sc)) {
          match = true;
        }
        pi++;
        plen--;
      }
      if (not) match = !match;
      if (!match) return false;
      si++;
      slen--;
    } else {
      if (c === 0x5c /* '\\' */ && plen >= 2) {
        pi++;
        plen--;
      }
      if (!eq(at(pi), s[si] as number)) return false;
      si++;
      slen--;
    }
    pi++;
    plen--;
    if (slen === 0) {
      while (at(pi) === 0x2a) {
        pi++;
        plen--;
      }
      break;
    }
  }
  return plen === 0 && slen === 0;
}
