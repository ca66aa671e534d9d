/**
 * The COMMAND command: COMMAND, COUNT, INFO, DOCS, LIST, GETKEYS, GETKEYSANDFLAGS.
 *
 * Replies are shaped as Redis 7.2 builds them in src/server.c (addReplyCommandInfo,
 * addReplyCommandDocs, addReplyCommandKeySpecs, commandListCommand, getKeysSubcommandImpl)
 * from the generated spec table, in RESP2 and RESP3 alike; the ReplyWriter decides the
 * difference (sets and maps). Key extraction is src/db.c's getKeysFromCommandWithSpecs:
 * the key specs first, then the command's native callback (sortGetKeys, ...) when the
 * specs cannot answer. Which commands exist is the caller's business: it passes the
 * implemented top-level specs and a lookup for full names ('client|kill').
 *
 * None of this is on the hot path; clarity wins over allocation here.
 */

import type { ReplyWriter } from '@shrike/resp3';
import { type ArgSpec, COMMAND_SPECS, type CommandSpec, type KeySpec } from './spec.generated';

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

/** A key found in a command: its argv position and the flags to print with it. */
export interface KeyRef {
  readonly pos: number;
  readonly flags: readonly string[];
}

const RO_ACCESS = ['RO', 'access'];
const OW_UPDATE = ['OW', 'update'];
const RW_ACCESS_UPDATE = ['RW', 'access', 'update'];
const RW_ACCESS_DELETE = ['RW', 'access', 'delete'];
const NO_FLAGS: readonly string[] = [];

/** getKeysSubcommandImpl (src/server.c). */
function getKeysReply(w: ReplyWriter, lookup: SpecLookup, argv: readonly Buffer[], withFlags: boolean): void {
  const spec = lookupForCall(lookup, argv);
  if (spec === undefined) {
    w.error('ERR Invalid command specified');
    return;
  }
  if (!hasKeys(spec)) {
    w.error('ERR The command has no key arguments');
    return;
  }
  const argc = argv.length;
  if ((spec.arity > 0 && spec.arity !== argc) || argc < -spec.arity) {
    w.error('ERR Invalid number of arguments specified for command');
    return;
  }
  const keys = keysOf(spec, argv);
  if (keys.length === 0) {
    if (spec.flags.includes('no_mandatory_keys')) w.arrayHeader(0);
    else w.error('ERR Invalid arguments specified for command');
    return;
  }
  w.arrayHeader(keys.length);
  for (const k of keys) {
    const arg = argv[k.pos] as Buffer;
    if (!withFlags) {
      w.bulk(arg);
      continue;
    }
    w.arrayHeader(2);
    w.bulk(arg);
    w.setHeader(k.flags.length);
    for (const f of k.flags) w.simple(f);
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

/** doesCommandHaveKeys: a native callback or a key spec that is not NOT_KEY. */
function hasKeys(spec: CommandSpec): boolean {
  return spec.getKeysFunction !== undefined || spec.keySpecs.some((ks) => !ks.flags.includes('not_key'));
}

/** getKeysFromCommandWithSpecs (src/db.c): the key specs when reliable, else the native callback. */
export function keysOf(spec: CommandSpec, argv: readonly Buffer[]): KeyRef[] {
  const hasKeySpec = spec.keySpecs.some((ks) => !ks.flags.includes('not_key'));
  const hasVariableFlags = spec.keySpecs.some((ks) => ks.flags.includes('variable_flags'));
  if (hasKeySpec && !hasVariableFlags) {
    const keys = keysFromSpecs(spec, argv);
    if (keys !== undefined) return keys;
  }
  const native = spec.getKeysFunction === undefined ? undefined : NATIVE_GETKEYS[spec.getKeysFunction];
  return native === undefined ? [] : native(argv);
}

/** getKeysUsingKeySpecs without GET_KEYSPEC_RETURN_PARTIAL: undefined when a spec cannot answer. */
function keysFromSpecs(spec: CommandSpec, argv: readonly Buffer[]): KeyRef[] | undefined {
  const argc = argv.length;
  const keys: KeyRef[] = [];
  for (const ks of spec.keySpecs) {
    if (ks.flags.includes('not_key')) continue;

    let first = 0;
    const bs = ks.begin_search;
    if (bs.type === 'index') {
      first = bs.spec.index;
    } else if (bs.type === 'keyword') {
      const { keyword, startfrom } = bs.spec;
      const start = startfrom > 0 ? startfrom : argc + startfrom;
      const end = startfrom > 0 ? argc - 1 : 1;
      // As in Redis, the search stops before `end`: the last argument cannot be the keyword.
      for (let i = start; i !== end; i = start <= end ? i + 1 : i - 1) {
        if (i >= argc || i < 1) break;
        if (cstrEquals(argv[i] as Buffer, keyword)) {
          first = i + 1;
          break;
        }
      }
      if (first === 0) continue; // keyword absent: this spec has no keys here
    } else {
      return undefined;
    }

    let last: number;
    let step: number;
    const fk = ks.find_keys;
    if (fk.type === 'range') {
      step = fk.spec.keystep;
      if (fk.spec.lastkey >= 0) last = first + fk.spec.lastkey;
      else if (fk.spec.limit === 0) last = argc + fk.spec.lastkey;
      else last = first + (Math.trunc((argc - first) / fk.spec.limit) + fk.spec.lastkey);
    } else if (fk.type === 'keynum') {
      step = fk.spec.keystep;
      const numArg = argv[first + fk.spec.keynumidx];
      if (fk.spec.keynumidx >= argc || numArg === undefined) return undefined;
      const numkeys = string2ll(numArg);
      if (numkeys === undefined || numkeys < 0) return undefined;
      first += fk.spec.firstkey;
      last = first + numkeys - 1;
    } else {
      return undefined;
    }

    if (last >= argc || last < first || first >= argc) return undefined;
    for (let i = first; i <= last; i += step) {
      keys.push({ pos: i, flags: ks.flags });
    }
    if (ks.flags.includes('incomplete')) return undefined;
  }
  return keys;
}

/** Redis's native getkeys callbacks (src/db.c), by the name the spec gives. */
const NATIVE_GETKEYS: Readonly<Record<string, (argv: readonly Buffer[]) => KeyRef[]>> = {
  // ZUNIONSTORE dst numkeys key ... / ZUNION numkeys key ... / EVAL script numkeys key ... etc.
  zunionInterDiffStoreGetKeys: (argv) => genericGetKeys(1, 2, 3, 1, argv),
  zunionInterDiffGetKeys: (argv) => genericGetKeys(0, 1, 2, 1, argv),
  sintercardGetKeys: (argv) => genericGetKeys(0, 1, 2, 1, argv),
  evalGetKeys: (argv) => genericGetKeys(0, 2, 3, 1, argv),
  functionGetKeys: (argv) => genericGetKeys(0, 2, 3, 1, argv),
  lmpopGetKeys: (argv) => genericGetKeys(0, 1, 2, 1, argv),
  blmpopGetKeys: (argv) => genericGetKeys(0, 2, 3, 1, argv),
  zmpopGetKeys: (argv) => genericGetKeys(0, 1, 2, 1, argv),
  bzmpopGetKeys: (argv) => genericGetKeys(0, 2, 3, 1, argv),
  sortROGetKeys: () => [{ pos: 1, flags: RO_ACCESS }],
  sortGetKeys,
  migrateGetKeys,
  georadiusGetKeys,
  xreadGetKeys,
  setGetKeys,
  bitfieldGetKeys,
};

/** genericGetKeys: numkeys at keyCountOfs (parsed with atoi), then the keys, then the store key. */
function genericGetKeys(storeKeyOfs: number, keyCountOfs: number, firstKeyOfs: number, keyStep: number, argv: readonly Buffer[]): KeyRef[] {
  const countArg = argv[keyCountOfs];
  const num = countArg === undefined ? 0 : atoi(countArg);
  // C integer division, as Redis checks it.
  if (num < 1 || num > Math.trunc((argv.length - firstKeyOfs) / keyStep)) return [];
  const keys: KeyRef[] = [];
  for (let i = 0; i < num; i++) keys.push({ pos: firstKeyOfs + i * keyStep, flags: NO_FLAGS });
  if (storeKeyOfs) keys.push({ pos: storeKeyOfs, flags: NO_FLAGS });
  return keys;
}

/** SORT key [BY ..] [LIMIT o c] [GET ..] ... [STORE dst]: the last STORE wins, as in SORT itself. */
function sortGetKeys(argv: readonly Buffer[]): KeyRef[] {
  const skip: readonly [string, number][] = [
    ['limit', 2],
    ['get', 1],
    ['by', 1],
  ];
  let store: KeyRef | undefined;
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i] as Buffer;
    // Redis tests STORE inside the loop over the skip list, so STORE is seen at its first entry.
    for (const [name, n] of skip) {
      if (cstrEquals(arg, name)) {
        i += n;
        break;
      }
      if (cstrEquals(arg, 'store') && i + 1 < argv.length) {
        store = { pos: i + 1, flags: OW_UPDATE };
        break;
      }
    }
  }
  const keys: KeyRef[] = [{ pos: 1, flags: RO_ACCESS }];
  if (store !== undefined) keys.push(store);
  return keys;
}

/** MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw | AUTH2 user pw] [KEYS key ...]. */
function migrateGetKeys(argv: readonly Buffer[]): KeyRef[] {
  const argc = argv.length;
  let first = 3;
  let num = 1;
  const skip: readonly [string, number][] = [
    ['copy', 0],
    ['replace', 0],
    ['auth', 1],
    ['auth2', 2],
  ];
  if (argc > 6) {
    for (let i = 6; i < argc; i++) {
      const arg = argv[i] as Buffer;
      if (cstrEquals(arg, 'keys')) {
        // A key argument together with KEYS is a syntax error, left to MIGRATE itself.
        if ((argv[3] as Buffer).length > 0) num = 0;
        else {
          first = i + 1;
          num = argc - first;
        }
        break;
      }
      for (const [name, n] of skip) {
        if (cstrEquals(arg, name)) {
          i += n;
          break;
        }
      }
    }
  }
  const keys: KeyRef[] = [];
  for (let i = 0; i < num; i++) keys.push({ pos: first + i, flags: RW_ACCESS_DELETE });
  return keys;
}

/** GEORADIUS[BYMEMBER] key ... [STORE key | STOREDIST key]: the last store option wins. */
function georadiusGetKeys(argv: readonly Buffer[]): KeyRef[] {
  let stored = -1;
  for (let i = 5; i < argv.length; i++) {
    const arg = argv[i] as Buffer;
    if ((cstrEquals(arg, 'store') || cstrEquals(arg, 'storedist')) && i + 1 < argv.length) {
      stored = i + 1;
      i++;
    }
  }
  const keys: KeyRef[] = [{ pos: 1, flags: NO_FLAGS }];
  if (stored !== -1) keys.push({ pos: stored, flags: NO_FLAGS });
  return keys;
}

/** XREAD[GROUP] [BLOCK ms] [COUNT n] [GROUP g c] [NOACK] STREAMS key ... id ...: half the rest are keys. */
function xreadGetKeys(argv: readonly Buffer[]): KeyRef[] {
  const argc = argv.length;
  let streamsPos = -1;
  for (let i = 1; i < argc; i++) {
    const arg = argv[i] as Buffer;
    if (cstrEquals(arg, 'block') || cstrEquals(arg, 'count')) i++;
    else if (cstrEquals(arg, 'group')) i += 2;
    else if (cstrEquals(arg, 'noack')) {
      // no option argument
    } else if (cstrEquals(arg, 'streams')) {
      streamsPos = i;
      break;
    } else break;
  }
  const rest = streamsPos === -1 ? 0 : argc - streamsPos - 1;
  if (streamsPos === -1 || rest === 0 || rest % 2 !== 0) return [];
  const keys: KeyRef[] = [];
  for (let i = streamsPos + 1; i < argc - rest / 2; i++) keys.push({ pos: i, flags: NO_FLAGS });
  return keys;
}

/** SET key value [... GET ...]: the key is read too when GET is given. */
function setGetKeys(argv: readonly Buffer[]): KeyRef[] {
  for (let i = 3; i < argv.length; i++) {
    if (cstrEquals(argv[i] as Buffer, 'get')) return [{ pos: 1, flags: RW_ACCESS_UPDATE }];
  }
  return [{ pos: 1, flags: OW_UPDATE }];
}

/** BITFIELD key [GET ..] [SET ..] [INCRBY ..] [OVERFLOW ..]: read-only unless it writes (or is malformed). */
function bitfieldGetKeys(argv: readonly Buffer[]): KeyRef[] {
  let readonly = true;
  for (let i = 2; i < argv.length; i++) {
    const remaining = argv.length - i - 1;
    const arg = argv[i] as Buffer;
    if (cstrEquals(arg, 'get') && remaining >= 2) i += 2;
    else if ((cstrEquals(arg, 'set') || cstrEquals(arg, 'incrby')) && remaining >= 3) {
      readonly = false;
      break;
    } else if (cstrEquals(arg, 'overflow') && remaining >= 1) i += 1;
    else {
      readonly = false; // a syntax error: safer to assume a write, as Redis does
      break;
    }
  }
  return [{ pos: 1, flags: readonly ? RO_ACCESS : RW_ACCESS_UPDATE }];
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

const ACL_CATEGORIES = [
  'keyspace',
  'read',
  'write',
  'set',
  'sortedset',
  'list',
  'hash',
  'string',
  'bitmap',
  'hyperloglog',
  'geo',
  'stream',
  'pubsub',
  'admin',
  'fast',
  'slow',
  'blocking',
  'dangerous',
  'connection',
  'transaction',
  'scripting',
];

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** string2ll: an exact base-10 int64 (no spaces, no '+', no leading zeros), else undefined. */
function string2ll(arg: Buffer): number | undefined {
  const s = arg.toString('latin1');
  if (!/^(0|-?[1-9][0-9]*)$/.test(s)) return undefined;
  const n = BigInt(s);
  if (n < INT64_MIN || n > INT64_MAX) return undefined;
  return Number(n);
}

/** atoi as glibc does it: (int) strtol(s, NULL, 10), saturating at the long range, then truncated to 32 bits. */
function atoi(arg: Buffer): number {
  const nul = arg.indexOf(0);
  const s = arg.toString('latin1', 0, nul < 0 ? arg.length : nul);
  const m = /^[ \t\n\v\f\r]*([+-]?)([0-9]+)/.exec(s);
  if (m === null) return 0;
  let n = BigInt(`${m[1] === '-' ? '-' : ''}${m[2]}`);
  if (n > INT64_MAX) n = INT64_MAX;
  if (n < INT64_MIN) n = INT64_MIN;
  return Number(BigInt.asIntN(32, n));
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
