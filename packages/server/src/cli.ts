/**
 * The only code that reads argv, the environment and config files: redis-server style,
 * `shrike-server [/path/redis.conf] [--name value ...]`, flags overriding the file.
 */
import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import { applyParam, type Config, defaultConfig, splitConfigLine } from './config';

/** A configuration problem that stops start-up, with a message for the operator. */
export class ConfigError extends Error {}

/** Apply a redis.conf-style text to `cfg`; an unknown or malformed directive names its line. */
export function applyConfigText(cfg: Config, text: string, source: string): void {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '' || line.startsWith('#')) continue;
    const words = splitConfigLine(line);
    const fail = (why: string): never => {
      throw new ConfigError(
        `*** FATAL CONFIG FILE ERROR (Shrike) ***\nReading the configuration file ${source}, at line ${i + 1}\n>>> '${line}'\n${why}`,
      );
    };
    if (words === undefined) fail('Unbalanced quotes in configuration line');
    const [name, ...args] = words as string[];
    const err = applyParam(cfg, name as string, args);
    if (err !== undefined) fail(err);
  }
}

/** Parse the command line into a frozen Config. Throws ConfigError on bad input. */
export function parseArgs(argv: readonly string[]): Readonly<Config> {
  const parsed = yargs([...argv])
    .scriptName('shrike-server')
    .usage('Usage: $0 [/path/to/redis.conf] [--port 6380] [--threads N] [--option value ...]')
    .parserConfiguration({
      'camel-case-expansion': false,
      'parse-numbers': false,
      'parse-positional-numbers': false,
      'boolean-negation': false,
      'dot-notation': false,
    })
    .help('help')
    .version(false)
    .strict(false)
    .exitProcess(false)
    .parseSync();
  const cfg = defaultConfig();
  const positional = parsed._.map(String);
  if (positional.length > 1) throw new ConfigError(`expected at most one config file, got: ${positional.join(' ')}`);
  const file = positional[0];
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new ConfigError(`Fatal error, can't open config file '${file}': ${(e as Error).message}`);
    }
    applyConfigText(cfg, text, file);
  }
  // Flags are applied as if they were lines appended to the file, as redis-server does.
  const flagLines: string[] = [];
  for (const [key, value] of Object.entries(parsed)) {
    if (key === '_' || key === '$0' || key === 'help') continue;
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) flagLines.push(`${key} ${v === true ? '' : quote(String(v))}`.trimEnd());
  }
  applyConfigText(cfg, flagLines.join('\n'), 'command line');
  return Object.freeze(cfg);
}

function quote(s: string): string {
  return s === '' || /[\s"'\\]/.test(s) ? `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : s;
}
