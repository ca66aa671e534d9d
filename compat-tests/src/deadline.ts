// How long the runner waits for one reply. Every command gets the base timeout, so a
// command the server lacks cannot hang the run; a blocking command also gets the time
// it asked the server to block for (BLPOP k 3.14 may rightly take 3.14 s). A zero
// timeout blocks forever on Redis, so it gets only the base: the suite's cases put data
// there first, and a correct server answers at once.

/** Blocking commands whose timeout in seconds is their last argument. */
const LAST_ARG_SECONDS = new Set(['blpop', 'brpop', 'brpoplpush', 'blmove', 'bzpopmin', 'bzpopmax']);
/** Blocking commands whose timeout in seconds is their first argument. */
const FIRST_ARG_SECONDS = new Set(['blmpop', 'bzmpop']);

/** A positive finite number argument, or 0 (absent, zero, negative or not a number). */
function positive(arg: Buffer | undefined): number {
  const n = arg === undefined ? Number.NaN : Number(arg.toString('latin1'));
  return Number.isFinite(n) && n > 0 ? n : 0;
}

function seconds(arg: Buffer | undefined): number {
  return positive(arg) * 1000;
}

function milliseconds(arg: Buffer | undefined): number {
  return positive(arg);
}

/** The time a command may block by its own arguments, in ms (0 when it does not block). */
export function blockingMs(args: readonly Buffer[]): number {
  const name = args[0]?.toString('latin1').toLowerCase() ?? '';
  if (LAST_ARG_SECONDS.has(name)) return seconds(args[args.length - 1]);
  if (FIRST_ARG_SECONDS.has(name)) return seconds(args[1]);
  if (name === 'wait') return milliseconds(args[2]);
  if (name === 'waitaof') return milliseconds(args[3]);
  if (name === 'xread' || name === 'xreadgroup') {
    const i = args.findIndex((a) => a.toString('latin1').toLowerCase() === 'block');
    return i > 0 ? milliseconds(args[i + 1]) : 0;
  }
  return 0;
}

/** The deadline for one command's reply, in ms. */
export function replyTimeoutMs(args: readonly Buffer[], baseMs: number): number {
  return baseMs + blockingMs(args);
}
