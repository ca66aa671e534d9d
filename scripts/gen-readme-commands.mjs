#!/usr/bin/env node
// Writes the README's "Supported commands" table from the live command table (the core's
// op list joined with the TypeScript family files), so the README cannot drift from the code.
// `--check` exits 1 when README.md is out of date. Needs a build (`npm run build`).
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const root = new URL('..', import.meta.url).pathname;
const { buildTable } = require(`${root}packages/server/dist/commands/table.js`);
const addon = require('@shrike/binding');

/** The markdown table: one row per Redis group, its implemented commands, where they run. */
export function commandsMarkdown() {
  const table = buildTable(addon.initKeyspace(16, 256));
  const groups = new Map();
  for (const cmd of table.values()) {
    const names = cmd.subcommands ? [...cmd.subcommands.values()].map((s) => s.name.replace('|', ' ')) : [cmd.name];
    if (cmd.subcommands && cmd.handler) names.unshift(cmd.name);
    for (const name of names) {
      const full = cmd.subcommands?.get(name.split(' ')[1] ?? '') ?? cmd;
      const group = cmd.spec.group;
      if (!groups.has(group)) groups.set(group, []);
      groups.get(group).push(`${name.toUpperCase()}${full.op >= 0 ? '' : '†'}`);
    }
  }
  const rows = [...groups.entries()].sort(([a], [b]) => a.localeCompare(b));
  const total = rows.reduce((n, [, c]) => n + c.length, 0);
  return [
    `${total} commands and subcommands. † runs in TypeScript (connection or server state); the rest run in the Rust core.`,
    '',
    '| group | commands |',
    '|---|---|',
    ...rows.map(([g, c]) => `| ${g} | ${c.sort().join(', ')} |`),
  ].join('\n');
}

const START = '<!-- commands:start -->';
const END = '<!-- commands:end -->';
const path = `${root}README.md`;
const readme = readFileSync(path, 'utf8');
const a = readme.indexOf(START);
const b = readme.indexOf(END);
if (a < 0 || b < a) {
  process.stderr.write('README.md has no commands markers\n');
  process.exit(1);
}
const next = `${readme.slice(0, a + START.length)}\n${commandsMarkdown()}\n${readme.slice(b)}`;
if (process.argv.includes('--check')) {
  if (next !== readme) {
    process.stderr.write('README.md command table is out of date: run npm run gen:readme\n');
    process.exit(1);
  }
} else writeFileSync(path, next);
