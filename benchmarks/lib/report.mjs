/** The plain-text summary printed to stdout at the end of a run. */

const k = (x) => (typeof x === 'number' ? Math.round(x).toLocaleString('en-US') : '-');
const fx = (x, d = 2) => (typeof x === 'number' ? x.toFixed(d) : '-');
const mib = (b) => (typeof b === 'number' ? (b / 1048576).toFixed(1) : '-');
/** A ratio interval (stats.mjs) as `0.91-1.04`. */
const ci = (c) => (c ? `${fx(c.low)}-${fx(c.high)}` : '-');

/** Columns right-aligned except the first. */
function table(header, rows) {
  const all = [header, ...rows].map((r) => r.map(String));
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(all[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...all.slice(1).map(line)].join('\n');
}

export function summaryText(results) {
  const out = [];
  const m = results.machine;
  out.push(`Shrike vs Redis on ${m.name} (${m.cpuModel}, ${m.nproc} CPUs), ${results.date}`);
  out.push(
    `redis-server ${m.redisServer}, node ${m.node}, shrike ${m.shrikeCommit ?? '?'}; ${results.options.rounds} round(s)${results.options.quick ? ', QUICK' : ''}`,
  );
  const la = (l) => (l ? l.map((x) => x.toFixed(2)).join(' ') : '?');
  out.push(
    `load average at start ${la(results.loadAverageAtStart)}, at end ${la(results.loadAverageAtEnd)}; run took ${results.durationSeconds} s`,
  );

  const tp = results.throughput;
  if (tp) {
    out.push(
      '',
      `Throughput: redis-benchmark -c 50 -r 100000, median of ${tp.rounds} round(s) (95% CI: of the paired rounds' ratios); shrike --threads ${tp.shrikeThreads}`,
    );
    out.push(
      table(
        ['load', 'redis rps', 'shrike rps', 'ratio', '95% CI', 'redis µs/op', 'shrike µs/op', 'cpu ratio', '95% CI'],
        tp.loads.map((l) => [
          l.id,
          k(l.median.redis.rps),
          k(l.median.shrike.rps),
          `${fx(l.ratio.rps)}x`,
          ci(l.ratio.rpsInterval),
          fx(l.median.redis.cpuUsPerOp, 3),
          fx(l.median.shrike.cpuUsPerOp, 3),
          `${fx(l.ratio.cpuPerOp)}x`,
          ci(l.ratio.cpuPerOpInterval),
        ]),
      ),
    );
  }

  const ol = results.openloop;
  if (ol?.skipped) out.push('', `Open loop: skipped (${ol.reason.split('\n')[0]})`);
  else if (ol) {
    out.push(
      '',
      `Open loop GET: loadgen, 50 connections, ${ol.durationSeconds} s per run, median of rounds; 100% = ${k(ol.baseRate.rps)} req/s`,
    );
    const rows = [];
    for (const p of ol.points) {
      for (const key of ['redis', 'shrike']) {
        const s = p.median[key];
        rows.push([
          `${Math.round(p.fraction * 100)}% ${k(p.rate)}/s`,
          key,
          k(s.achieved_rps),
          k(s.p50_us),
          k(s.p99_us),
          k(s.p999_us),
          k(s.max_us),
          k(s.errors),
        ]);
      }
    }
    out.push(table(['rate', 'server', 'achieved', 'p50 µs', 'p99 µs', 'p99.9 µs', 'max µs', 'errors'], rows));
  }

  const mem = results.memory;
  if (mem) {
    out.push('', `Memory: ${k(mem.keys)} keys (16-byte keys, 32-byte values), fresh servers`);
    const row = (key) => {
      const s = mem[key];
      return [key, mib(s.empty.rssBytes), mib(s.loaded.rssBytes), mib(s.loaded.usedMemory), fx(s.rssBytesPerKey, 1)];
    };
    out.push(
      table(
        ['server', 'RSS empty MiB', 'RSS loaded MiB', 'used_memory MiB', 'RSS B/key'],
        [
          row('redis'),
          row('shrike'),
          ['shrike/redis', '', `${fx(mem.ratio.rss)}x`, `${fx(mem.ratio.usedMemory)}x`, `${fx(mem.ratio.rssDelta)}x`],
        ],
      ),
    );
  }

  const col = results.collections;
  if (col) {
    out.push('', 'Collections: RSS added per element, fresh servers per case (8-byte members)');
    out.push(
      table(
        ['case', 'keys x elements', 'redis B/elem', 'shrike B/elem', 'encoding (redis/shrike)', 'shrike/redis'],
        col.cases.map((c) =>
          c.error
            ? [c.id, '', '', '', c.error.slice(0, 40), 'failed']
            : [
                c.id,
                `${k(c.keys)} x ${k(c.elementsPerKey)}`,
                fx(c.redis.bytesPerElement, 1),
                fx(c.shrike.bytesPerElement, 1),
                `${c.redis.encoding}/${c.shrike.encoding}`,
                `${fx(c.ratio)}x`,
              ],
        ),
      ),
    );
  }

  const lf = results.lazyfree;
  if (lf) {
    const msOf = (us) => (typeof us === 'number' ? (us / 1000).toFixed(2) : '-');
    out.push('', `Lazyfree: DEL / SET of a ${k(lf.elements)}-element key while another client PINGs (ms); shrike --threads 1`);
    out.push(
      table(
        ['case', 'redis cmd', 'redis ping max', 'redis ping p99', 'shrike cmd', 'shrike ping max', 'shrike ping p99'],
        lf.cases.map((c) =>
          c.error
            ? [c.id, c.error.slice(0, 40), '', '', '', '', 'failed']
            : [
                c.id,
                msOf(c.redis.cmdUs),
                msOf(c.redis.maxUs),
                msOf(c.redis.p99Us),
                msOf(c.shrike.cmdUs),
                msOf(c.shrike.maxUs),
                msOf(c.shrike.p99Us),
              ],
        ),
      ),
    );
  }

  const bl = results.blocking;
  if (bl) {
    out.push(
      '',
      `Blocking: BLPOP/LPUSH ping-pong round trip (µs), ${k(bl.roundTrips)} per run, median of ${bl.rounds} round(s); shrike --threads ${bl.shrikeThreads}, clients on different workers`,
    );
    out.push(
      table(
        ['percentile', 'redis', 'shrike', 'ratio'],
        ['p50', 'p99'].map((p) => [p, fx(bl.median.redis[`${p}Us`], 1), fx(bl.median.shrike[`${p}Us`], 1), `${fx(bl.ratio[p])}x`]),
      ),
    );
  }

  const sc = results.scaling;
  if (sc) {
    out.push('', `Scaling: shrike --threads 1 vs 2, redis-benchmark on CPU ${sc.clientCpu}, median of ${sc.rounds} round(s)`);
    out.push(
      table(
        ['load', 't1 rps', 't2 rps', 't2/t1', 't1 µs/op', 't2 µs/op'],
        sc.loads.map((l) => [
          l.id,
          k(l.median.threads1.rps),
          k(l.median.threads2.rps),
          `${fx(l.ratio.rps)}x`,
          fx(l.median.threads1.cpuUsPerOp, 3),
          fx(l.median.threads2.cpuUsPerOp, 3),
        ]),
      ),
    );
  }

  const tx = results.transactions;
  if (tx) {
    out.push('', `Transactions: ${tx.clients} clients, ${tx.perClient} each, shrike --threads ${tx.shrikeThreads}, median of rounds`);
    out.push(
      table(
        ['load', 'redis tx/s', 'shrike tx/s', 'redis µs/tx', 'shrike µs/tx', 'cpu ratio'],
        tx.loads.map((l) => [
          l.id,
          k(l.median.redis.tps),
          k(l.median.shrike.tps),
          fx(l.median.redis.cpuUsPerTx, 2),
          fx(l.median.shrike.cpuUsPerTx, 2),
          `${fx(l.ratio.cpuPerTx)}x`,
        ]),
      ),
    );
  }

  const ps = results.pubsub;
  if (ps) {
    out.push(
      '',
      `PUBLISH fan-out: 1 publisher, ${ps.subscribers} subscribers, ${ps.payloadBytes}-byte messages, median of ${ps.rounds.redis.length} round(s)`,
    );
    out.push(
      table(
        ['server', 'delivered msg/s', 'CPU µs/msg'],
        [
          ['redis', k(ps.redis.deliveredPerSec), fx(ps.redis.cpuUsPerMessage, 3)],
          ['shrike', k(ps.shrike.deliveredPerSec), fx(ps.shrike.cpuUsPerMessage, 3)],
        ],
      ),
    );
  }

  if (results.errors?.length) {
    out.push('', 'Errors:');
    for (const e of results.errors) out.push(`  ${e.section}: ${e.message.split('\n')[0]}`);
  }

  out.push('', 'Targets:');
  for (const t of results.targets) {
    const mark = t.pass === true ? 'PASS' : t.pass === false ? 'FAIL' : 'n/a ';
    out.push(`  ${mark}  ${t.description}: ${t.detail}`);
  }
  return `${out.join('\n')}\n`;
}
