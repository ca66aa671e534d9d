/**
 * Mail between workers (crates/keyspace/src/mailbox.rs): the kinds a worker's JavaScript
 * handles, and how a Node-socket worker reads its mailbox. With io_uring the ring takes the
 * mail and delivers pushes itself; everything else reaches `WorkerServer.onMail` either way.
 */

/** Append the bytes to the client's output (Node-socket workers only; the ring does it itself). */
export const MAIL_PUSH = 1;
/** Give the event loop a turn (the ring's business; ignored here). */
export const MAIL_YIELD = 2;
/** The reply that ends a client's block: write it and resume the client. */
export const MAIL_REPLY = 16;
/** A redirected invalidation for a client of this worker (keyspace tracking.rs MAIL_REDIRECT). */
export const MAIL_TRACKING_REDIRECT = 24;

/** Bytes of a record header in `takeMail`'s buffer (binding mailbox.rs). */
const HEADER = 16;

/** Walk the records of a `takeMail` buffer: `fn(kind, clientId, bytes)` for each, in order. */
export function eachMail(buf: Buffer, fn: (kind: number, client: number, bytes: Buffer) => void): void {
  let at = 0;
  while (at + HEADER <= buf.length) {
    const kind = buf.readUInt32LE(at);
    const client = buf.readUInt32LE(at + 4) + buf.readUInt32LE(at + 8) * 2 ** 32;
    const len = buf.readUInt32LE(at + 12);
    fn(kind, client, buf.subarray(at + HEADER, at + HEADER + len));
    at += HEADER + Math.ceil(len / 4) * 4;
  }
}
