/** The README's command table is generated from the command table; fail when it is stale. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import t from 'tap';

t.test('README command table matches the code', async (t) => {
  const root = join(__dirname, '..', '..', '..');
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'gen-readme-commands.mjs'), '--check'], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
});
