/** Section 4: Shrike with one worker thread vs two, under the same closed-loop loads. */

import { addRatios, RequestSizer, runAlternating } from '../lib/abrun.mjs';
import { startShrike, withServers } from '../lib/servers.mjs';
import { THROUGHPUT_LOADS } from './throughput.mjs';

const SCALING_IDS = ['set P1', 'get P1', 'set P16', 'get P16'];

export async function scalingSection(ctx) {
  const { opts, log, machine } = ctx;
  // Shrike pins its workers to CPUs 0..N-1, so the client goes on the last CPU: with
  // one thread it then has a core of its own, with two it shares like any client would.
  const clientCpu = opts.clientCpu ?? Math.max(0, machine.nproc - 1);
  log(`[scaling] starting shrike --threads 1 and --threads 2; redis-benchmark pinned to CPU ${clientCpu}`);
  return withServers([() => startShrike({ threads: 1 }), () => startShrike({ threads: 2 })], async (t1, t2) => {
    const records = await runAlternating({
      section: 'scaling',
      sides: [
        { key: 'threads1', server: t1 },
        { key: 'threads2', server: t2 },
      ],
      loads: THROUGHPUT_LOADS.filter((l) => SCALING_IDS.includes(l.id)),
      rounds: opts.rounds,
      sizer: new RequestSizer(opts.seconds),
      clientCpu,
      log,
    });
    addRatios(records, 'threads1', 'threads2');
    return { clientCpu, rounds: opts.rounds, servers: { threads1: t1.command.join(' '), threads2: t2.command.join(' ') }, loads: records };
  });
}
