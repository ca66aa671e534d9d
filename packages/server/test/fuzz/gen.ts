/**
 * What the fuzz generators share: the command and comparison model, the generation context
 * (key pool, value pools with edge values, planting keys of other types, keys whose order is
 * no longer deterministic) and the loop that turns one type's generator into a command stream.
 * The per-type modules (strings.ts, lists.ts, ...) only decide which commands to draw.
 */
import { FuzzRng, seedFor } from './prng';

/** One argument: text, or bytes for binary values. */
export type Arg = string | Buffer;

/**
 * How the two replies to a command are compared. Everything not listed compares byte for byte;
 * each other kind exists for one reason Redis itself is not deterministic.
 */
export type Compare =
  /** Byte for byte (the default). */
  | { readonly kind: 'exact' }
  /**
   * Unordered elements (hash-table iteration order): the top-level aggregate compared as a
   * multiset, `pairs` keeping flat field/value pairs together. With `compactExact`, byte for
   * byte when the previous command's reference reply names a compact encoding (listpack,
   * intset), whose order Redis defines.
   */
  | { readonly kind: 'set'; readonly pairs?: boolean; readonly compactExact?: boolean }
  /**
   * Random picks (SRANDMEMBER, SPOP, HRANDFIELD, ZRANDMEMBER, RANDOMKEY): same shape and count,
   * and every element is one of the elements of the reply `from` commands away on the same server.
   */
  | { readonly kind: 'random'; readonly from: -1 | 1 }
  /**
   * SCAN family: when both cursors are 0, the elements as a multiset; else, or when the scan
   * was `resumed` from a cursor the client made up, the shape only.
   */
  | { readonly kind: 'scan'; readonly pairs?: boolean; readonly resumed?: boolean }
  /** TTLs read from the clock: positive integers may differ by `tolerance`. */
  | { readonly kind: 'clock'; readonly tolerance: number };

/** One generated command. */
export interface FuzzCommand {
  readonly args: readonly Arg[];
  readonly compare?: Compare;
  /** Never mutated (reads that another command's comparison depends on). */
  readonly fixed?: boolean;
}

/** The data types the fuzzer knows, named as in the families. */
export const TYPE_NAMES = ['strings', 'generic', 'lists', 'hashes', 'sets', 'zsets', 'bitmaps', 'hyperloglog', 'geo', 'sort'] as const;

/** One of TYPE_NAMES. */
export type TypeName = (typeof TYPE_NAMES)[number];

/** One type's generator. */
export interface FuzzType {
  readonly name: TypeName;
  /** A command that leaves a value of this type at `key` (plants wrong types for other generators). */
  create(g: Gen, key: Arg): readonly Arg[];
  /** The next step: one command, or a few that belong together (a read a comparison needs). */
  step(g: Gen): readonly FuzzCommand[];
  /** Rewrites every command of this type's stream, planted ones included (see sort.ts). */
  scrub?(args: readonly Arg[]): readonly Arg[];
}

/** A command compared byte for byte. */
export function c(...args: Arg[]): FuzzCommand {
  return { args };
}

/** One command's generator: a builder draws the arguments of one command (or a few that go together). */
export type Builder = (g: Gen) => FuzzCommand | readonly FuzzCommand[];

/** A FuzzType from its creator and builders, drawn with equal weight (list one twice to draw it more). */
export function fuzzType(name: TypeName, create: FuzzType['create'], builders: readonly Builder[], scrub?: FuzzType['scrub']): FuzzType {
  return {
    name,
    create,
    step(g) {
      const r = g.rng.pick(builders)(g);
      return Array.isArray(r) ? r : [r as FuzzCommand];
    },
    ...(scrub === undefined ? {} : { scrub }),
  };
}

/** Relative expiries in seconds: long enough not to expire during a run, or already past, or invalid. */
export const EXPIRE_S: readonly string[] = ['100', '1000', '86400', '0', '-1', '9223372036854775807', '9223372036854775', 'x', '', '1.5'];
/** Relative expiries in milliseconds, as EXPIRE_S. */
export const EXPIRE_MS: readonly string[] = ['1000000', '86400000', '0', '-1', '9223372036854775807', '9223372036854776', 'x', '1.5'];
/** Absolute expiries in unix seconds: far future, past, invalid. */
export const EXPIRE_AT_S: readonly string[] = ['4102444800', '4102444801', '1', '0', '-1', '9223372036854775807', 'x'];
/** Absolute expiries in unix milliseconds, as EXPIRE_AT_S. */
export const EXPIRE_AT_MS: readonly string[] = ['4102444800000', '4102444800001', '1', '0', '-5', '9223372036854775807', 'x'];

/** A SCAN-family command: `args` up to the cursor, then MATCH and COUNT as drawn. */
export function scanCommand(g: Gen, head: readonly Arg[], patterns: readonly string[], pairs = false): FuzzCommand {
  const cursor = g.rng.chance(0.85) ? '0' : g.int(-1, 20);
  const args: Arg[] = [...head, cursor];
  if (g.rng.chance(0.4)) args.push(g.option(['MATCH']), g.rng.pick(patterns));
  if (g.rng.chance(0.4)) args.push(g.option(['COUNT']), g.rng.chance(0.7) ? '1000' : g.int(-1, 5));
  return { args, compare: { kind: 'scan', pairs, resumed: cursor !== '0' } };
}

/**
 * A random pick (SRANDMEMBER, HRANDFIELD, ZRANDMEMBER) with an optional count and one of
 * `withOptions`, then `read` of the whole key, whose elements the picks are checked against.
 */
export function randomPick(g: Gen, name: string, withOptions: readonly string[], read: (key: string) => FuzzCommand): FuzzCommand[] {
  const key = g.key();
  const args: Arg[] = [name, key];
  if (g.rng.chance(0.8)) {
    args.push(g.int(-6, 6));
    if (withOptions.length > 0 && g.rng.chance(0.5)) args.push(g.option(withOptions));
  }
  return [
    { args, compare: { kind: 'random', from: 1 } },
    { ...read(key), fixed: true },
  ];
}

/** The keys every generator draws from: few, so that commands collide. */
export const KEYS: readonly string[] = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5'];

/**
 * Sorted sets whose members all have score 0: the only ones lex ranges are defined on (with
 * mixed scores, a skiplist's answer depends on its random levels).
 */
export const LEX_KEYS: readonly string[] = ['lex0', 'lex1'];

/** 65 bytes: one past the 64-byte value limit of the compact encodings. */
const LONG65 = 'v'.repeat(65);

/** Values for strings, members, fields: edge values of every kind, binary bytes included. */
export const VALUES: readonly Arg[] = [
  '',
  'a',
  'b',
  'c',
  'foo',
  'bar',
  'a b',
  '0',
  '1',
  '-1',
  '2',
  '10',
  '007',
  '3.14',
  '0.1',
  '1e400',
  'inf',
  '-inf',
  'nan',
  '9223372036854775807',
  '-9223372036854775808',
  '9223372036854775808',
  '12345678901234567',
  '0.30000000000000004',
  Buffer.from([0x00, 0xff, 0x0d, 0x0a]),
  Buffer.from([0xc3, 0xa9]),
  'x'.repeat(44),
  'x'.repeat(45),
  LONG65,
  'w'.repeat(300),
];

/** Integer arguments (counts, indexes, increments): edges, overflow and non-numbers. */
export const INTS: readonly string[] = [
  '0',
  '1',
  '-1',
  '2',
  '3',
  '-2',
  '5',
  '7',
  '-7',
  '10',
  '100',
  '-100',
  '9223372036854775807',
  '-9223372036854775808',
  '9223372036854775808',
  '99999999999999999999',
  '',
  'x',
  '1.5',
  '+1',
  '-0',
  '007',
  ' 1',
];

/** Float arguments: specials, overflow, shortest-round-trip cases and malformed numbers. */
export const FLOATS: readonly string[] = [
  '0',
  '1',
  '-1',
  '0.1',
  '1.5',
  '-2.5',
  '1e3',
  '1e400',
  '-1e400',
  'inf',
  '-inf',
  '+inf',
  'nan',
  'Infinity',
  '1.7976931348623157e308',
  '4.9e-324',
  '0.30000000000000004',
  '12345678901234567',
  '3.0',
  '5.',
  '.5',
  '1e',
  'x',
  '',
  '0x10',
  ' 1',
  '-0',
  '1e-5',
];

/** Arguments appended by mutation: junk, options of other commands, edge numbers. */
const JUNK: readonly string[] = ['junk', 'NX', 'XX', 'COUNT', 'LIMIT', '0', '-1', '', 'WITHSCORES', 'REV', 'x', '1'];

/** Types whose elements SORT reads in a hash table's order (sort.c loads a zset from its dict). */
const HASHED_TYPES: ReadonlySet<TypeName> = new Set(['sets', 'zsets', 'geo']);

/** The state of one generation run. */
export class Gen {
  /** Keys whose element order came from a hash table (a STORE from a hash-table source). */
  private readonly unordered = new Set<string>();

  constructor(
    readonly rng: FuzzRng,
    /** Types whose keys may be planted into this run (the enabled ones). */
    readonly others: readonly FuzzType[],
  ) {}

  /** A key from the pool. */
  key(): string {
    return this.rng.pick(KEYS);
  }

  /** `n` keys from the pool (repeats allowed, as a client may send). */
  keys(n: number): string[] {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(this.key());
    return out;
  }

  /** A value from VALUES, or one from `pool` when given (usually a type's small member pool). */
  value(pool: readonly Arg[] = VALUES): Arg {
    return this.rng.chance(0.15) ? this.rng.pick(VALUES) : this.rng.pick(pool);
  }

  /** An integer argument: mostly small, sometimes an edge. */
  int(lo = -3, hi = 10): string {
    return this.rng.chance(0.15) ? this.rng.pick(INTS) : String(this.rng.range(lo, hi));
  }

  /** A float argument: mostly plain, sometimes an edge. */
  float(): string {
    if (this.rng.chance(0.3)) return this.rng.pick(FLOATS);
    const n = this.rng.range(-50, 50);
    return this.rng.chance(0.5) ? String(n) : (n / 4).toString();
  }

  /** One of `items`, with upper/lower case mixed as clients send options. */
  option(items: readonly string[]): string {
    const o = this.rng.pick(items);
    return this.rng.chance(0.2) ? o.toLowerCase() : o;
  }

  /** `n` values drawn with `draw`. */
  many<T>(n: number, draw: () => T): T[] {
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(draw());
    return out;
  }

  /** How many elements an adding command carries: mostly a few, rarely past the compact limit (128). */
  size(): number {
    const r = this.rng.int(1000);
    if (r < 8) return this.rng.range(125, 140);
    if (r < 60) return this.rng.range(5, 20);
    return this.rng.range(1, 4);
  }

  /** A command that leaves a value of one of the other types at `key`. */
  plant(key: Arg): FuzzCommand[] {
    if (this.others.length === 0) return [c('SET', key, this.value())];
    const type = this.rng.pick(this.others);
    // SORT reads sets and sorted sets in hash-table order (sort.ts needs to know).
    this.setUnordered(key, HASHED_TYPES.has(type.name));
    return [{ args: ['DEL', key], fixed: true }, { args: type.create(this, key) }];
  }

  /** Mark `key` as holding hash-table order (or not). */
  setUnordered(key: Arg, on: boolean): void {
    const k = key.toString();
    if (on) this.unordered.add(k);
    else this.unordered.delete(k);
  }

  /** Mark every key unordered (SWAPDB brings back keys whose history this run did not follow). */
  setAllUnordered(): void {
    for (const k of KEYS) this.unordered.add(k);
  }

  /** Whether `key`'s order came from a hash table. */
  isUnordered(key: Arg): boolean {
    return this.unordered.has(key.toString());
  }

  /**
   * A whole-collection read of `key` compared as a multiset, except byte for byte while
   * OBJECT ENCODING (sent first) says the key is compact and its order is Redis's insertion
   * or sorted order.
   */
  orderedRead(args: readonly Arg[], key: Arg, pairs = false): FuzzCommand[] {
    if (this.isUnordered(key)) return [{ args, compare: { kind: 'set', pairs }, fixed: true }];
    return [
      { args: ['OBJECT', 'ENCODING', key], fixed: true },
      { args, compare: { kind: 'set', pairs, compactExact: true }, fixed: true },
    ];
  }
}

/** How often a step is replaced by one of the shared disturbances below. */
const PLANT_P = 0.04;
const DEL_P = 0.03;
const ENCODING_P = 0.04;
const TRUNCATE_P = 0.02;
const APPEND_P = 0.02;

/**
 * The command stream of one run: `count` commands from `type`, with keys of the `others`
 * planted among them (wrong types), keys deleted now and then (so collections do not only
 * grow), OBJECT ENCODING read often, and some commands cut short or given a junk argument.
 * Returned as steps, so that a runner never splits commands that are compared together.
 */
export function generate(type: FuzzType, others: readonly FuzzType[], seed: number, count: number): FuzzCommand[][] {
  const g = new Gen(new FuzzRng(seedFor(seed, type.name)), others);
  const steps: FuzzCommand[][] = [];
  let n = 0;
  while (n < count) {
    const r = g.rng.next();
    let step: FuzzCommand[];
    if (r < PLANT_P && others.length > 0) {
      step = g.plant(g.key());
    } else if (r < PLANT_P + DEL_P) {
      const key = g.key();
      g.setUnordered(key, false);
      step = [{ args: ['DEL', key] }];
    } else if (r < PLANT_P + DEL_P + ENCODING_P) {
      step = [{ args: ['OBJECT', 'ENCODING', g.key()] }];
    } else {
      step = type.step(g).map((c) => mutate(g, c));
    }
    const scrub = type.scrub;
    steps.push(scrub === undefined ? step : step.map((x) => ({ ...x, args: scrub(x.args) })));
    n += step.length;
  }
  return steps;
}

/** Cut a command short or append a junk argument, now and then (arity and syntax errors). */
function mutate(g: Gen, c: FuzzCommand): FuzzCommand {
  if (c.fixed === true) return c;
  if (c.args.length > 1 && g.rng.chance(TRUNCATE_P)) return { ...c, args: c.args.slice(0, g.rng.range(1, c.args.length - 1)) };
  if (g.rng.chance(APPEND_P)) return { ...c, args: [...c.args, g.rng.pick(JUNK)] };
  return c;
}
