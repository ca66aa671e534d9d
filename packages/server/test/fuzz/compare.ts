/**
 * Compare the two replies to one fuzz command as its Compare kind says: byte for byte, or in a
 * canonical form that leaves out only what Redis itself does not fix (hash-table order, random
 * picks, SCAN cursors, the clock). Works on raw RESP frames, so RESP2 and RESP3 type bytes
 * (`*` against `~`, `%`, `,`) still have to match.
 */
import { replyEnd } from '../diff/runner';
import type { Compare } from './gen';

/** The type byte, header line and (for aggregates) child frames of one reply frame. */
interface Frame {
  readonly type: number;
  readonly head: string;
  readonly children: Buffer[] | undefined;
}

/** Aggregate type bytes: * ~ > % |. */
const AGGREGATES = new Set([0x2a, 0x7e, 0x3e, 0x25, 0x7c]);

function frame(buf: Buffer): Frame {
  const type = buf[0] ?? 0;
  const eol = buf.indexOf('\r\n');
  const head = buf.toString('latin1', 1, eol < 0 ? buf.length : eol);
  if (!AGGREGATES.has(type) || Number(head) < 0) return { type, head, children: undefined };
  const children: Buffer[] = [];
  let p = eol + 2;
  while (p < buf.length) {
    const end = replyEnd(buf, p);
    if (end < 0) break;
    children.push(buf.subarray(p, end));
    p = end;
  }
  return { type, head, children };
}

const text = (b: Buffer): string => b.toString('latin1');

/** The children of a multiset aggregate in canonical order; flat pairs stay together. */
function sortedChildren(f: Frame, pairs: boolean): string[] {
  const kids = (f.children ?? []).map(text);
  if (!pairs && f.type !== 0x25) return kids.sort();
  const out: string[] = [];
  for (let i = 0; i < kids.length; i += 2) out.push(`${kids[i]}${kids[i + 1] ?? ''}`);
  return out.sort();
}

/** An aggregate as its header and sorted children; anything else as its bytes. */
function asMultiset(buf: Buffer, pairs: boolean): string {
  const f = frame(buf);
  if (f.children === undefined) return text(buf);
  return `${String.fromCharCode(f.type)}${f.head}{${sortedChildren(f, pairs).join('|')}}`;
}

/** Every scalar frame inside `buf`, as bytes (the elements a random pick may return). */
function leaves(buf: Buffer, out: Set<string>): Set<string> {
  const f = frame(buf);
  if (f.children === undefined) out.add(text(buf));
  else for (const c of f.children) leaves(c, out);
  return out;
}

/** A random pick with every element found in `pool` replaced by `<m>`, children sorted. */
function asPick(buf: Buffer, pool: ReadonlySet<string>): string {
  const f = frame(buf);
  if (f.children === undefined) return pool.has(text(buf)) ? '<m>' : text(buf);
  const kids = f.children.map((c) => asPick(c, pool)).sort();
  return `${String.fromCharCode(f.type)}${f.head}{${kids.join('|')}}`;
}

/** The cursor of a SCAN-family reply, or undefined when the reply is not [cursor, elements]. */
function cursorOf(buf: Buffer): string | undefined {
  const f = frame(buf);
  const c = f.children?.[0];
  return f.children?.length === 2 && c !== undefined ? text(c).split('\r\n')[1] : undefined;
}

/** The previous command's reference reply names a compact encoding (Redis-defined order). */
const COMPACT = new Set(['listpack', 'intset', 'quicklist', 'ziplist']);

/** The replies around the compared one, on each server (for kinds that look at neighbours). */
export interface Neighbours {
  readonly refPrev?: Buffer;
  readonly refNext?: Buffer;
  readonly sutPrev?: Buffer;
  readonly sutNext?: Buffer;
}

/** The canonical forms of the reference and the tested reply; equal strings mean the same reply. */
export function canonical(compare: Compare | undefined, ref: Buffer, sut: Buffer, around: Neighbours): [string, string] {
  if (compare === undefined) return [text(ref), text(sut)];
  switch (compare.kind) {
    case 'exact':
      return [text(ref), text(sut)];
    case 'set': {
      const encoding = around.refPrev?.toString('latin1').split('\r\n')[1];
      if (compare.compactExact === true && encoding !== undefined && COMPACT.has(encoding)) return [text(ref), text(sut)];
      const pairs = compare.pairs === true;
      return [asMultiset(ref, pairs), asMultiset(sut, pairs)];
    }
    case 'random': {
      const poolOf = (prev: Buffer | undefined, next: Buffer | undefined): Set<string> =>
        leaves((compare.from === -1 ? prev : next) ?? Buffer.alloc(0), new Set());
      return [asPick(ref, poolOf(around.refPrev, around.refNext)), asPick(sut, poolOf(around.sutPrev, around.sutNext))];
    }
    case 'scan': {
      const [ca, cb] = [cursorOf(ref), cursorOf(sut)];
      if (ca === undefined || cb === undefined) return [text(ref), text(sut)];
      if (ca === '0' && cb === '0' && compare.resumed !== true) {
        const elems = (b: Buffer): string => asMultiset(frame(b).children?.[1] ?? Buffer.alloc(0), compare.pairs === true);
        return [elems(ref), elems(sut)];
      }
      // A partial scan: where a hash table's cursor stops is the server's own business.
      return ['(partial scan)', '(partial scan)'];
    }
    case 'clock': {
      const f = [frame(ref), frame(sut)];
      const [a, b] = f.map((x) => (x.type === 0x3a ? Number(x.head) : Number.NaN)) as [number, number];
      if (a > 0 && b > 0 && Math.abs(a - b) <= compare.tolerance) return ['(close in time)', '(close in time)'];
      return [text(ref), text(sut)];
    }
  }
}
