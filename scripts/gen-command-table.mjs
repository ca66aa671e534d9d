#!/usr/bin/env node
// Generates the command table from Redis 7.2's command specification.
//
//   node scripts/gen-command-table.mjs [path/to/commands-7.2.json] [--check]
//
// Reads the merged spec (one object keyed by "NAME" and "CONTAINER SUB"; default
// ../shared/redis-spec/commands-7.2.json relative to the repo root) and writes:
//   packages/server/src/commands/spec.generated.ts   every command and subcommand, typed
//   compat-tests/src/command-groups.generated.ts     name -> group, for the compat report
//   crates/keyspace/src/cmd/spec.rs                  the same facts for the Rust core: names,
//                                                    arity, flag bits, ACL bits, key specs and
//                                                    native getkeys callbacks, as plain data
// Redis 7.4's hash-field TTL commands are not in commands-7.2.json; scripts/commands-extra.json
// holds their entries in the same shape and is read beside it.
// All are committed, so a build never needs ../shared. With --check nothing is written:
// the script exits 1 when a committed file differs from what it would generate.
//
// What each record holds is what Redis 7.2 itself derives from the same JSON
// (utils/generate-command-code.py -> src/commands.def -> populateCommandStructure in
// src/server.c): flags in bit order, implicit ACL categories (setImplicitACLCategories),
// the legacy first/last/step key range and the derived 'movablekeys' flag
// (populateCommandLegacyRangeSpec), key-spec flags as addReplyFlagsForKeyArgs names them,
// lower-cased tips, upper-cased tokens, lower-cased display texts. The output depends on
// nothing but the input, so running it twice gives the same bytes.

import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_SPEC = resolve(ROOT, '../shared/redis-spec/commands-7.2.json');
const SPEC_OUT = resolve(ROOT, 'packages/server/src/commands/spec.generated.ts');
const GROUPS_OUT = resolve(ROOT, 'compat-tests/src/command-groups.generated.ts');
const RUST_OUT = resolve(ROOT, 'crates/keyspace/src/cmd/spec.rs');
const EXTRA_SPEC = resolve(ROOT, 'scripts/commands-extra.json');

// Command flags by bit, as in src/server.h (CMD_WRITE is bit 0). The list order is the
// bit order, which is also the order addReplyFlagsForCommand prints them in.
const COMMAND_FLAGS = [
  ['WRITE', 'write'],
  ['READONLY', 'readonly'],
  ['DENYOOM', 'denyoom'],
  ['MODULE', 'module'],
  ['ADMIN', 'admin'],
  ['PUBSUB', 'pubsub'],
  ['NOSCRIPT', 'noscript'],
  ['BLOCKING', 'blocking'],
  ['LOADING', 'loading'],
  ['STALE', 'stale'],
  ['SKIP_MONITOR', 'skip_monitor'],
  ['SKIP_SLOWLOG', 'skip_slowlog'],
  ['ASKING', 'asking'],
  ['FAST', 'fast'],
  ['NO_AUTH', 'no_auth'],
  ['MAY_REPLICATE', 'may_replicate'],
  ['SENTINEL', 'sentinel'],
  ['ONLY_SENTINEL', 'only_sentinel'],
  ['NO_MANDATORY_KEYS', 'no_mandatory_keys'],
  ['PROTECTED', 'protected'],
  ['NO_ASYNC_LOADING', 'no_async_loading'],
  ['NO_MULTI', 'no_multi'],
  ['MOVABLE_KEYS', 'movablekeys'],
  ['ALLOW_BUSY', 'allow_busy'],
  ['TOUCHES_ARBITRARY_KEYS', 'touches_arbitrary_keys'],
];

// ACLCommandCategories in src/acl.c: the order COMMAND INFO prints categories in.
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

// CMD_KEY_* by bit, named as addReplyFlagsForKeyArgs prints them.
const KEY_FLAGS = [
  ['RO', 'RO'],
  ['RW', 'RW'],
  ['OW', 'OW'],
  ['RM', 'RM'],
  ['ACCESS', 'access'],
  ['UPDATE', 'update'],
  ['INSERT', 'insert'],
  ['DELETE', 'delete'],
  ['NOT_KEY', 'not_key'],
  ['INCOMPLETE', 'incomplete'],
  ['VARIABLE_FLAGS', 'variable_flags'],
];

const DOC_FLAGS = [
  ['DEPRECATED', 'deprecated'],
  ['SYSCMD', 'syscmd'],
];

const ARG_TYPES = new Set(['string', 'integer', 'double', 'key', 'pattern', 'unix-time', 'pure-token', 'oneof', 'block']);

const GROUPS = new Set([
  'generic',
  'string',
  'list',
  'set',
  'sorted_set',
  'hash',
  'pubsub',
  'transactions',
  'connection',
  'server',
  'scripting',
  'hyperloglog',
  'cluster',
  'sentinel',
  'geo',
  'stream',
  'bitmap',
]);

/** Upper-case JSON names -> the printed names, in table order; throws on a name Redis lacks. */
function pickFlags(table, names, what, where) {
  const given = new Set(names ?? []);
  for (const n of given) {
    if (!table.some(([json]) => json === n)) throw new Error(`${where}: unknown ${what} '${n}'`);
  }
  return table.filter(([json]) => given.has(json)).map(([, printed]) => printed);
}

/** An optional string field as generate-command-code.py keeps it: empty means absent. */
function optional(desc, field) {
  const v = desc[field];
  return typeof v === 'string' && v !== '' ? cString(v) : undefined;
}

const C_ESCAPES = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"' };

/**
 * The string C ends up with: generate-command-code.py pastes each value between double
 * quotes unescaped, so quotes and backslashes inside it act as C syntax. MIGRATE's
 * empty-string token, JSON '""', becomes """" in commands.def: two empty literals, so
 * Redis prints an empty token.
 */
function cString(v) {
  if (!/["\\]/.test(v)) return v;
  const src = `"${v}"`;
  let out = '';
  let i = 0;
  while (i < src.length) {
    if (src[i] !== '"') throw new Error(`not a C string literal: ${src}`);
    i++;
    while (src[i] !== '"') {
      if (i >= src.length) throw new Error(`unterminated C string literal: ${src}`);
      if (src[i] === '\\') {
        const e = C_ESCAPES[src[i + 1]];
        if (e === undefined) throw new Error(`unsupported C escape in ${src}`);
        out += e;
        i += 2;
      } else out += src[i++];
    }
    i++;
  }
  return out;
}

function keySpec(spec, where) {
  const out = {};
  const notes = optional(spec, 'notes');
  if (notes !== undefined) out.notes = notes;
  out.flags = pickFlags(KEY_FLAGS, spec.flags, 'key-spec flag', where);

  const bs = spec.begin_search;
  if (bs.index) {
    out.begin_search = { type: 'index', spec: { index: bs.index.pos } };
  } else if (bs.keyword) {
    out.begin_search = {
      type: 'keyword',
      spec: { keyword: cString(bs.keyword.keyword), startfrom: bs.keyword.startfrom },
    };
  } else if ('unknown' in bs) {
    out.begin_search = { type: 'unknown', spec: {} };
  } else {
    throw new Error(`${where}: bad begin_search`);
  }

  const fk = spec.find_keys;
  if (fk.range) {
    out.find_keys = {
      type: 'range',
      spec: { lastkey: fk.range.lastkey, keystep: fk.range.step, limit: fk.range.limit },
    };
  } else if (fk.keynum) {
    out.find_keys = {
      type: 'keynum',
      spec: { keynumidx: fk.keynum.keynumidx, firstkey: fk.keynum.firstkey, keystep: fk.keynum.step },
    };
  } else if ('unknown' in fk) {
    out.find_keys = { type: 'unknown', spec: {} };
  } else {
    throw new Error(`${where}: bad find_keys`);
  }
  return out;
}

function argument(desc, where) {
  if (!ARG_TYPES.has(desc.type)) throw new Error(`${where}: unknown argument type '${desc.type}'`);
  const out = { name: desc.name.toLowerCase(), type: desc.type };
  const container = desc.type === 'oneof' || desc.type === 'block';
  // addReplyCommandArgList prints display_text (defaulting to the name) only for plain args.
  if (!container && optional(desc, 'display') !== undefined) out.display = desc.display.toLowerCase();
  if (typeof desc.key_spec_index === 'number') out.keySpecIndex = desc.key_spec_index;
  const token = optional(desc, 'token');
  if (token !== undefined) out.token = token.toUpperCase();
  for (const [field, key] of [
    ['summary', 'summary'],
    ['since', 'since'],
    ['deprecated_since', 'deprecatedSince'],
  ]) {
    const v = optional(desc, field);
    if (v !== undefined) out[key] = v;
  }
  const flags = [];
  if (desc.optional) flags.push('optional');
  if (desc.multiple) flags.push('multiple');
  if (desc.multiple_token) flags.push('multiple_token');
  if (flags.length > 0) out.flags = flags;
  if (container) {
    out.arguments = (desc.arguments ?? []).map((a) => argument(a, `${where} ${desc.name}`));
  }
  return out;
}

/** populateCommandLegacyRangeSpec (src/server.c, 7.2): the legacy range and movablekeys. */
function legacyRange(keySpecs, hasModuleGetKeys) {
  let movable = hasModuleGetKeys;
  const none = { firstKey: 0, lastKey: 0, step: 0 };
  if (keySpecs.length === 0) return { ...none, movable };

  const isPlainRange = (ks) => ks.begin_search.type === 'index' && ks.find_keys.type === 'range';
  const incomplete = (ks) => ks.flags.includes('incomplete');

  const only = keySpecs[0];
  if (keySpecs.length === 1 && isPlainRange(only)) {
    if (incomplete(only)) movable = true;
    return { ...printedRange(only.begin_search.spec.index, only.find_keys.spec.lastkey, only.find_keys.spec.keystep), movable };
  }

  let firstKey = Number.MAX_SAFE_INTEGER;
  let lastKey = 0;
  let prevLastKey = 0;
  for (const ks of keySpecs) {
    if (!isPlainRange(ks)) {
      movable = true;
      continue;
    }
    const pos = ks.begin_search.spec.index;
    if (ks.find_keys.spec.keystep !== 1 || (prevLastKey !== 0 && prevLastKey !== pos - 1)) {
      movable = true;
      continue;
    }
    if (incomplete(ks)) movable = true;
    firstKey = Math.min(firstKey, pos);
    let lastAbs = ks.find_keys.spec.lastkey;
    if (lastAbs >= 0) lastAbs += pos;
    // Redis compares these as unsigned, so a negative (count-from-the-end) lastkey wins.
    lastKey = lastKey >>> 0 >= lastAbs >>> 0 ? lastKey : lastAbs;
    prevLastKey = lastKey;
  }
  if (firstKey === Number.MAX_SAFE_INTEGER) return { ...none, movable: true };
  const relLast = lastKey < 0 ? lastKey : lastKey - firstKey;
  return { ...printedRange(firstKey, relLast, 1), movable };
}

/** addReplyCommandInfo: lastkey is printed absolute unless it counts from the end. */
function printedRange(first, relLast, step) {
  return { firstKey: first, lastKey: relLast >= 0 ? relLast + first : relLast, step };
}

function command(fullname, desc, subcommandNames) {
  const where = fullname;
  if (!GROUPS.has(desc.group)) throw new Error(`${where}: unknown group '${desc.group}'`);
  const flagsJson = desc.command_flags ?? [];
  const keySpecs = (desc.key_specs ?? []).map((ks, i) => keySpec(ks, `${where} key_specs[${i}]`));
  const range = legacyRange(keySpecs, false);
  const flags = pickFlags(COMMAND_FLAGS, range.movable ? [...flagsJson, 'MOVABLE_KEYS'] : flagsJson, 'command flag', where);

  // setImplicitACLCategories (src/server.c).
  const cats = new Set((desc.acl_categories ?? []).map((c) => c.toLowerCase()));
  for (const c of cats) if (!ACL_CATEGORIES.includes(c)) throw new Error(`${where}: unknown ACL category '${c}'`);
  if (flags.includes('write')) cats.add('write');
  if (flags.includes('readonly') && !cats.has('scripting')) cats.add('read');
  if (flags.includes('admin')) {
    cats.add('admin');
    cats.add('dangerous');
  }
  if (flags.includes('pubsub')) cats.add('pubsub');
  if (flags.includes('fast')) cats.add('fast');
  if (flags.includes('blocking')) cats.add('blocking');
  if (!cats.has('fast')) cats.add('slow');

  const out = {
    name: fullname,
    arity: desc.arity,
    flags,
    aclCategories: ACL_CATEGORIES.filter((c) => cats.has(c)).map((c) => `@${c}`),
    firstKey: range.firstKey,
    lastKey: range.lastKey,
    step: range.step,
    keySpecs,
    tips: (desc.command_tips ?? []).map((t) => cString(t.toLowerCase())),
    group: desc.group,
    since: optional(desc, 'since') ?? '',
    summary: optional(desc, 'summary') ?? '',
  };
  const complexity = optional(desc, 'complexity');
  if (complexity !== undefined) out.complexity = complexity;
  const docFlags = pickFlags(DOC_FLAGS, desc.doc_flags, 'doc flag', where);
  if (docFlags.length > 0) out.docFlags = docFlags;
  const deprecatedSince = optional(desc, 'deprecated_since');
  if (deprecatedSince !== undefined) out.deprecatedSince = deprecatedSince;
  const replacedBy = optional(desc, 'replaced_by');
  if (replacedBy !== undefined) out.replacedBy = replacedBy;
  if (Array.isArray(desc.history) && desc.history.length > 0) {
    out.history = desc.history.map(([since, change]) => [cString(since), cString(change)]);
  }
  if (Array.isArray(desc.arguments) && desc.arguments.length > 0) {
    out.arguments = desc.arguments.map((a) => argument(a, where));
  }
  if (subcommandNames.length > 0) out.subcommands = subcommandNames;
  const getKeys = optional(desc, 'get_keys_function');
  if (getKeys !== undefined) out.getKeysFunction = getKeys;
  return out;
}

/** Every command, top-level ones by name, each followed by its subcommands by name. */
function buildSpecs(json) {
  const top = [];
  const subsOf = new Map();
  for (const [key, desc] of Object.entries(json)) {
    const words = key.split(' ');
    if (desc.container !== undefined) {
      if (words.length !== 2 || words[0] !== desc.container.toUpperCase()) {
        throw new Error(`${key}: key does not match container '${desc.container}'`);
      }
      const container = words[0].toLowerCase();
      const list = subsOf.get(container) ?? [];
      list.push([words[1], desc]);
      subsOf.set(container, list);
    } else {
      if (words.length !== 1) throw new Error(`${key}: a subcommand without a container`);
      top.push([key, desc]);
    }
  }
  // generate-command-code.py sorts by the upper-case name; keep that order everywhere.
  const byName = (a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
  top.sort(byName);
  const specs = [];
  for (const [key, desc] of top) {
    const name = key.toLowerCase();
    const subs = (subsOf.get(name) ?? []).sort(byName);
    subsOf.delete(name);
    const subNames = subs.map(([sub]) => `${name}|${sub.toLowerCase()}`);
    specs.push(command(name, desc, subNames));
    for (const [sub, subDesc] of subs) {
      if (subDesc.group !== desc.group) throw new Error(`${key} ${sub}: group differs from its container`);
      specs.push(command(`${name}|${sub.toLowerCase()}`, subDesc, []));
    }
  }
  if (subsOf.size > 0) throw new Error(`subcommands without a container: ${[...subsOf.keys()].join(', ')}`);
  return specs;
}

// A small printer for TS literals: single quotes, bare keys, and a value kept on one
// line when it fits, so diffs of the generated file stay readable.
const WIDTH = 100;
const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function quote(s) {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r')}'`;
}

function inline(v) {
  if (typeof v === 'string') return quote(v);
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) return `[${v.map(inline).join(', ')}]`;
  const entries = Object.entries(v);
  if (entries.length === 0) return '{}';
  return `{ ${entries.map(([k, x]) => `${IDENT.test(k) ? k : quote(k)}: ${inline(x)}`).join(', ')} }`;
}

function literal(v, indent, prefixLen) {
  const flat = inline(v);
  if (typeof v !== 'object' || indent.length + prefixLen + flat.length + 1 <= WIDTH) return flat;
  const inner = `${indent}  `;
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    return `[\n${v.map((x) => `${inner}${literal(x, inner, 0)},`).join('\n')}\n${indent}]`;
  }
  const lines = Object.entries(v).map(([k, x]) => {
    const key = `${IDENT.test(k) ? k : quote(k)}: `;
    return `${inner}${key}${literal(x, inner, key.length)},`;
  });
  return `{\n${lines.join('\n')}\n${indent}}`;
}

function renderSpecs(specs, source) {
  const head = `// Generated by scripts/gen-command-table.mjs from ${source}; do not edit.
// Facts from the Redis 7.2 command specification (BSD-3-Clause, Copyright (c) Redis Ltd.),
// shaped as Redis 7.2 derives them for COMMAND INFO and COMMAND DOCS. Regenerate with
// \`npm run gen:commands\`.

/** A key specification, shaped as COMMAND INFO prints it. */
export interface KeySpec {
  /** Free-text notes; printed first when present. */
  readonly notes?: string;
  /** 'RO' | 'RW' | 'OW' | 'RM' | 'access' | 'update' | 'insert' | 'delete' | 'not_key' | 'incomplete' | 'variable_flags', in Redis's order. */
  readonly flags: readonly string[];
  /** Where the search for keys starts. */
  readonly begin_search:
    | { readonly type: 'index'; readonly spec: { readonly index: number } }
    | { readonly type: 'keyword'; readonly spec: { readonly keyword: string; readonly startfrom: number } }
    | { readonly type: 'unknown'; readonly spec: Readonly<Record<string, never>> };
  /** How the keys are found from there. */
  readonly find_keys:
    | { readonly type: 'range'; readonly spec: { readonly lastkey: number; readonly keystep: number; readonly limit: number } }
    | { readonly type: 'keynum'; readonly spec: { readonly keynumidx: number; readonly firstkey: number; readonly keystep: number } }
    | { readonly type: 'unknown'; readonly spec: Readonly<Record<string, never>> };
}

/** One argument of a command, as COMMAND DOCS prints it. */
export interface ArgSpec {
  /** Lower-case argument name. */
  readonly name: string;
  readonly type: 'string' | 'integer' | 'double' | 'key' | 'pattern' | 'unix-time' | 'pure-token' | 'oneof' | 'block';
  /** Display text when it differs from the name (COMMAND DOCS prints the name otherwise); never on oneof/block. */
  readonly display?: string;
  readonly keySpecIndex?: number;
  /** Upper-case token. */
  readonly token?: string;
  readonly summary?: string;
  readonly since?: string;
  readonly deprecatedSince?: string;
  /** 'optional' | 'multiple' | 'multiple_token', in Redis's order. */
  readonly flags?: readonly string[];
  /** Sub-arguments of a oneof or block. */
  readonly arguments?: readonly ArgSpec[];
}

/** One command or subcommand of Redis 7.2. */
export interface CommandSpec {
  /** Lower-case; subcommands as 'client|kill'. */
  readonly name: string;
  /** Argument count including the name; negative means at least -arity. */
  readonly arity: number;
  /** Every flag in Redis's bit order, lower-case, 'movablekeys' derived; COMMAND INFO hides may_replicate, sentinel, only_sentinel, protected, touches_arbitrary_keys. */
  readonly flags: readonly string[];
  /** '@keyspace', '@read', ... with Redis's implicit ones, in ACL table order. */
  readonly aclCategories: readonly string[];
  /** Legacy key range as COMMAND INFO prints it (populateCommandLegacyRangeSpec). */
  readonly firstKey: number;
  readonly lastKey: number;
  readonly step: number;
  readonly keySpecs: readonly KeySpec[];
  /** Lower-case command tips ('nondeterministic_output', 'request_policy:all_shards', ...). */
  readonly tips: readonly string[];
  /** Redis command group as in the spec ('string', 'sorted_set', ...); COMMAND DOCS prints 'sorted-set'. */
  readonly group: string;
  readonly since: string;
  readonly summary: string;
  readonly complexity?: string;
  /** 'deprecated' | 'syscmd'. */
  readonly docFlags?: readonly string[];
  readonly deprecatedSince?: string;
  readonly replacedBy?: string;
  /** [since, change] pairs. */
  readonly history?: readonly (readonly [string, string])[];
  readonly arguments?: readonly ArgSpec[];
  /** Full names of the subcommands of a container ('client|kill', ...). */
  readonly subcommands?: readonly string[];
  /** Redis's native key-extraction callback (e.g. 'sortGetKeys'), used when the key specs cannot answer. */
  readonly getKeysFunction?: string;
}
`;
  const body = specs.map((s) => `  ${literal(s, '  ', 0)},`).join('\n');
  return `${head}
/** Every command and subcommand of Redis 7.2, containers before their subcommands, by name. */
export const COMMAND_SPEC_LIST: readonly CommandSpec[] = [
${body}
];

/** Key-spec flag names by bit, as the core reports them (key_flag in crates/keyspace/src/cmd/spec.rs). */
export const KEY_SPEC_FLAG_NAMES: readonly string[] = ${inline(KEY_FLAGS.map(([, printed]) => printed))};

/** ACL category names without '@', in Redis's order (ACLCommandCategories in src/acl.c). */
export const ACL_CATEGORIES: readonly string[] = ${inline(ACL_CATEGORIES)};

/** Every command and subcommand, keyed by its lower-case name ('get', 'client|kill'). */
export const COMMAND_SPECS: ReadonlyMap<string, CommandSpec> = new Map(
  COMMAND_SPEC_LIST.map((spec): [string, CommandSpec] => [spec.name, spec]),
);
`;
}

function renderGroups(specs, source) {
  const rows = specs.map((s) => `  [${quote(s.name)}, ${quote(s.group)}],`).join('\n');
  return `// Generated by scripts/gen-command-table.mjs from ${source}; do not edit.
// The Redis 7.2 command group of every command and subcommand (BSD-3-Clause, Copyright (c) Redis Ltd.),
// kept here so that the compat runner builds without packages/server.

/** Command group ('string', 'sorted_set', ...) by lower-case command name ('get', 'client|kill'). */
export const COMMAND_GROUPS: ReadonlyMap<string, string> = new Map<string, string>([
${rows}
]);
`;
}

// Redis's native getkeys callbacks (src/db.c) -> the variant of cmd::getkeys::NativeGetKeys.
const NATIVE_GETKEYS = {
  bitfieldGetKeys: 'Bitfield',
  blmpopGetKeys: 'Blmpop',
  evalGetKeys: 'Eval',
  functionGetKeys: 'Function',
  georadiusGetKeys: 'Georadius',
  lmpopGetKeys: 'Lmpop',
  migrateGetKeys: 'Migrate',
  setGetKeys: 'Set',
  sintercardGetKeys: 'Sintercard',
  sortGetKeys: 'Sort',
  sortROGetKeys: 'SortRo',
  xreadGetKeys: 'Xread',
  zmpopGetKeys: 'Zmpop',
  zunionInterDiffGetKeys: 'ZunionInterDiff',
  zunionInterDiffStoreGetKeys: 'ZunionInterDiffStore',
};

/** Rust constant name of a printed flag name ('movablekeys' -> MOVABLE_KEYS via the table). */
function bitsExpr(table, printed, mod) {
  const names = table.filter(([, p]) => printed.includes(p)).map(([json]) => `${mod}::${json}`);
  return names.length === 0 ? '0' : names.join(' | ');
}

function rustKeySpec(ks) {
  const flags = bitsExpr(KEY_FLAGS, ks.flags, 'key_flag');
  let begin;
  if (ks.begin_search.type === 'index') begin = `BeginSearch::Index(${ks.begin_search.spec.index})`;
  else if (ks.begin_search.type === 'keyword') {
    const { keyword, startfrom } = ks.begin_search.spec;
    begin = `BeginSearch::Keyword { keyword: ${JSON.stringify(keyword)}, startfrom: ${startfrom} }`;
  } else begin = 'BeginSearch::Unknown';
  let find;
  const fk = ks.find_keys;
  if (fk.type === 'range') find = `FindKeys::Range { lastkey: ${fk.spec.lastkey}, step: ${fk.spec.keystep}, limit: ${fk.spec.limit} }`;
  else if (fk.type === 'keynum') {
    find = `FindKeys::Keynum { keynumidx: ${fk.spec.keynumidx}, firstkey: ${fk.spec.firstkey}, step: ${fk.spec.keystep} }`;
  } else find = 'FindKeys::Unknown';
  return `KeyArgSpec { flags: ${flags}, begin: ${begin}, find: ${find} }`;
}

function renderRust(specs, source) {
  const consts = (table, mod, ty, doc) =>
    `/// ${doc}\npub mod ${mod} {\n${table.map(([json, printed], i) => `    /// \`${printed}\`.\n    pub const ${json}: ${ty} = 1 << ${i};`).join('\n')}\n}\n`;
  const aclTable = ACL_CATEGORIES.map((c) => [c.toUpperCase(), `@${c}`]);
  const byName = [...specs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const rows = byName.map((s) => {
    const native = s.getKeysFunction === undefined ? undefined : NATIVE_GETKEYS[s.getKeysFunction];
    if (s.getKeysFunction !== undefined && native === undefined) throw new Error(`${s.name}: unknown getkeys '${s.getKeysFunction}'`);
    const keySpecs =
      s.keySpecs.length === 0 ? '&[]' : `&[\n${s.keySpecs.map((ks) => `            ${rustKeySpec(ks)},`).join('\n')}\n        ]`;
    return `    CommandSpec {
        name: ${JSON.stringify(s.name)},
        group: ${JSON.stringify(s.group)},
        arity: ${s.arity},
        flags: ${bitsExpr(COMMAND_FLAGS, s.flags, 'flag')},
        acl: ${bitsExpr(aclTable, s.aclCategories, 'acl')},
        key_specs: ${keySpecs},
        getkeys: ${native === undefined ? 'None' : `Some(NativeGetKeys::${native})`},
        container: ${s.subcommands !== undefined && s.subcommands.length > 0},
    },`;
  });
  return `// Generated by scripts/gen-command-table.mjs from ${source}; do not edit.
// Facts from the Redis command specification (BSD-3-Clause, Copyright (c) Redis Ltd.), the
// same the TypeScript table (packages/server/src/commands/spec.generated.ts) is made from.
// Regenerate with \`npm run gen:commands\`.

//! Every Redis command and subcommand as the core sees it: name, group, arity, flag and ACL
//! bits, key specs and native getkeys callback, sorted by name for \`spec::find\`.

use super::getkeys::{BeginSearch, CommandSpec, FindKeys, KeyArgSpec, NativeGetKeys};

${consts(COMMAND_FLAGS, 'flag', 'u32', 'Command flags (CMD_* in src/server.h), by bit.')}
${consts(aclTable, 'acl', 'u32', 'ACL categories (ACLCommandCategories in src/acl.c), by bit.')}
${consts(KEY_FLAGS, 'key_flag', 'u16', 'Key-spec flags (CMD_KEY_* in src/server.h), by bit.')}
/// Every command and subcommand (\`container|sub\`), sorted by name (byte order).
pub static COMMANDS: &[CommandSpec] = &[
${rows.join('\n')}
];
`;
}

function main(argv) {
  const check = argv.includes('--check');
  const positional = argv.filter((a) => !a.startsWith('--'));
  const specPath = positional[0] !== undefined ? resolve(positional[0]) : DEFAULT_SPEC;
  const json = JSON.parse(readFileSync(specPath, 'utf8'));
  const extra = JSON.parse(readFileSync(EXTRA_SPEC, 'utf8'));
  for (const key of Object.keys(extra)) {
    if (key in json) throw new Error(`${key}: in both ${specPath} and ${EXTRA_SPEC}`);
  }
  const specs = buildSpecs({ ...json, ...extra });
  // Name the sources by file name only, so the output does not depend on where they were read from.
  const source = `${specPath.split(/[\\/]/).pop()} and ${EXTRA_SPEC.split(/[\\/]/).pop()}`;
  const outputs = [
    [SPEC_OUT, renderSpecs(specs, source)],
    [GROUPS_OUT, renderGroups(specs, source)],
    [RUST_OUT, renderRust(specs, source)],
  ];
  let stale = 0;
  for (const [path, text] of outputs) {
    const rel = relative(ROOT, path);
    if (check) {
      let current = '';
      try {
        current = readFileSync(path, 'utf8');
      } catch {}
      if (current !== text) {
        console.error(`${rel} is out of date: run npm run gen:commands`);
        stale++;
      }
    } else {
      writeFileSync(path, text);
      console.log(`wrote ${rel} (${specs.length} commands)`);
    }
  }
  if (stale > 0) process.exit(1);
}

main(process.argv.slice(2));
