/**
 * The Rust core as the server sees it: the addon's functions, and the one translation from the
 * core's reply values (crates/keyspace/src/reply.rs) into RESP through a ReplyWriter.
 */
import type { ReplyWriter } from '@shrike/resp3';

/** The addon's exports (crates/binding); see its generated index.d.ts. */
export type Addon = typeof import('@shrike/binding');

/** Load the native addon (each worker loads it; the keyspace inside is one per process). */
export function loadAddon(): Addon {
  return require('@shrike/binding') as Addon;
}

const TWO_32 = 4294967296;

/** Write the reply values in `r` to `w`; returns how many top-level values `r` held. */
export function writeCoreReplies(w: ReplyWriter, r: Buffer): number {
  let pos = 0;
  let n = 0;
  while (pos < r.length) {
    pos = writeValue(w, r, pos);
    n++;
  }
  return n;
}

function writeValue(w: ReplyWriter, r: Buffer, pos: number): number {
  const tag = r[pos] as number;
  pos++;
  switch (tag) {
    case 0x24: {
      // '$' bulk
      const len = r.readUInt32LE(pos);
      w.bulkSlice(r, pos + 4, pos + 4 + len);
      return pos + 4 + len;
    }
    case 0x3a: {
      // ':' integer, i64 little-endian; numbers past 2^53 stay exact as bigint
      const lo = r.readUInt32LE(pos);
      const hi = r.readInt32LE(pos + 4);
      if (hi >= -0x200000 && hi < 0x200000) w.integer(hi * TWO_32 + lo);
      else w.integer(r.readBigInt64LE(pos));
      return pos + 8;
    }
    case 0x2b: {
      // '+' simple string
      const len = r.readUInt32LE(pos);
      w.simple(r.toString('latin1', pos + 4, pos + 4 + len));
      return pos + 4 + len;
    }
    case 0x2d: {
      // '-' error
      const len = r.readUInt32LE(pos);
      w.errorBytes(r.subarray(pos + 4, pos + 4 + len));
      return pos + 4 + len;
    }
    case 0x5f: // '_' null
      w.null();
      return pos;
    case 0x30: // '0' null array
      w.nullArray();
      return pos;
    case 0x2a: // '*' array
    case 0x25: // '%' map
    case 0x7e: {
      // '~' set
      const n = r.readUInt32LE(pos);
      pos += 4;
      let items = n;
      if (tag === 0x2a) w.arrayHeader(n);
      else if (tag === 0x25) {
        w.mapHeader(n);
        items = 2 * n;
      } else w.setHeader(n);
      for (let i = 0; i < items; i++) pos = writeValue(w, r, pos);
      return pos;
    }
    case 0x2c: // ',' double
      w.double(r.readDoubleLE(pos));
      return pos + 8;
    case 0x23: // '#' boolean
      w.boolean(r[pos] !== 0);
      return pos + 1;
    case 0x3d: {
      // '=' verbatim: 3 format bytes, u32 length, payload
      const len = r.readUInt32LE(pos + 3);
      w.verbatim(r.toString('latin1', pos, pos + 3), r.subarray(pos + 7, pos + 7 + len));
      return pos + 7 + len;
    }
    default:
      throw new Error(`core reply: unknown tag ${tag} at ${pos - 1}`);
  }
}
