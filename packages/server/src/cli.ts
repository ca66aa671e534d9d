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

/** When the supervisor gives up on a worker that keeps dying (main.ts). */
export interface RestartPolicy {
  /** A worker that ran this long was healthy: its death starts a new count and a short backoff. */
  readonly healthyMs: number;
  /** Deaths in a row, each before `healthyMs`, that are still restarted; one more ends the process. */
  readonly maxCrashes: number;
}

/**
 * The restart policy: 10 quick deaths in a row (about 6 s of backoff) end the process, so that
 * systemd or docker restart it instead of Shrike spinning. The environment overrides it for
 * tests only (SHRIKE_WORKER_HEALTHY_MS, SHRIKE_WORKER_MAX_CRASHES); it is not a config parameter.
 */
export function restartPolicy(env: NodeJS.ProcessEnv): RestartPolicy {
  const num = (v: string | undefined, dflt: number): number => (v !== undefined && /^\d+$/.test(v) ? Number(v) : dflt);
  return { healthyMs: num(env.SHRIKE_WORKER_HEALTHY_MS, 30_000), maxCrashes: num(env.SHRIKE_WORKER_MAX_CRASHES, 10) };
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
