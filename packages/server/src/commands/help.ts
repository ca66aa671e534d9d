/** The `<CONTAINER> HELP` reply, as Redis 7.2's addReplyHelp frames it. */
import type { ReplyWriter } from '@shrike/resp3';

/** Header line, the command's own lines, then the HELP footer, all as simple strings. */
export function replyHelp(w: ReplyWriter, container: string, lines: readonly string[]): void {
  w.arrayHeader(lines.length + 3);
  w.simple(`${container.toUpperCase()} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`);
  for (const l of lines) w.simple(l);
  w.simple('HELP');
  w.simple('    Print this help.');
}
