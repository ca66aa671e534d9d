/**
 * Hand-written SVG for the results: grouped bar panels laid out in a grid. No chart
 * library, so the file is reproducible and the harness keeps zero dependencies.
 */

const COLORS = { redis: '#c0392b', shrike: '#2c7fb8', p1: '#7fb3d5', p16: '#1f4e79', t1: '#9ecae1', t2: '#08519c' };
const PANEL_W = 540;
const PANEL_H = 300;
const MARGIN = { top: 40, right: 16, bottom: 56, left: 64 };

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = (x) => Math.round(x * 10) / 10;

function text(x, y, s, attrs = '') {
  return `<text x="${num(x)}" y="${num(y)}" ${attrs}>${esc(s)}</text>`;
}

/** Round up to 1, 2, 2.5 or 5 times a power of ten, so axis ticks land on readable values. */
function niceStep(x) {
  if (!(x > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= x * 0.999) return m * p;
  return 10 * p;
}

function makeScale(kind, values, h) {
  const finite = values.filter((v) => typeof v === 'number' && Number.isFinite(v) && (kind !== 'log' || v > 0));
  if (kind === 'log') {
    // Start a decade below the smallest value, so a bar or reference line at a power of ten is not on the axis.
    const lo = 10 ** (Math.ceil(Math.log10(Math.min(...finite))) - 1);
    const hi = 10 ** Math.ceil(Math.log10(Math.max(...finite, lo * 10)));
    const y = (v) => h - ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * h;
    const ticks = [];
    for (let t = lo; t <= hi * 1.001; t *= 10) ticks.push(t);
    return { y, ticks };
  }
  const want = Math.max(...finite, 0) * 1.12;
  const step = niceStep(want / 5);
  const top = Math.max(step, Math.ceil(want / step - 1e-9) * step);
  const ticks = [];
  for (let i = 0; i * step <= top + step / 1000; i++) ticks.push(i * step);
  return { y: (v) => h - (v / top) * h, ticks };
}

/**
 * One panel: groups of bars (one bar per series) with optional horizontal reference lines.
 * groups: [{ label, values: [number|null per series] }], series: [{ name, color }],
 * refs: [{ value, label, color }].
 */
export function barPanel({
  x,
  y,
  title,
  subtitle,
  groups,
  series,
  refs = [],
  scale = 'linear',
  format = (v) => v.toFixed(2),
  yLabel = '',
}) {
  const w = PANEL_W - MARGIN.left - MARGIN.right;
  const h = PANEL_H - MARGIN.top - MARGIN.bottom;
  const out = [`<g transform="translate(${x},${y})">`];
  out.push(text(0, 16, title, 'class="title"'));
  if (subtitle) out.push(text(0, 31, subtitle, 'class="sub"'));
  out.push(`<g transform="translate(${MARGIN.left},${MARGIN.top})">`);
  const all = groups.flatMap((g) => g.values).concat(refs.map((r) => r.value));
  if (!groups.length || !all.some((v) => typeof v === 'number')) {
    out.push(text(w / 2, h / 2, 'no data', 'class="sub" text-anchor="middle"'), '</g></g>');
    return out.join('\n');
  }
  const s = makeScale(scale, all, h);
  for (const t of s.ticks) {
    out.push(`<line x1="0" x2="${w}" y1="${num(s.y(t))}" y2="${num(s.y(t))}" class="grid"/>`);
    out.push(text(-6, s.y(t) + 4, format(t, true), 'class="tick" text-anchor="end"'));
  }
  if (yLabel)
    out.push(
      text(-MARGIN.left + 12, h / 2, yLabel, `class="tick" text-anchor="middle" transform="rotate(-90 ${-MARGIN.left + 12} ${h / 2})"`),
    );
  const gw = w / groups.length;
  const bw = Math.min(40, (gw * 0.8) / series.length);
  groups.forEach((g, gi) => {
    const x0 = gi * gw + (gw - bw * series.length) / 2;
    g.values.forEach((v, si) => {
      const bx = x0 + si * bw;
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        out.push(text(bx + bw / 2, h - 4, 'n/a', 'class="val" text-anchor="middle"'));
        return;
      }
      const top = s.y(v);
      out.push(
        `<rect x="${num(bx + 1)}" y="${num(top)}" width="${num(bw - 2)}" height="${num(Math.max(0, h - top))}" fill="${series[si].color}"><title>${esc(`${g.label} ${series[si].name}: ${format(v)}`)}</title></rect>`,
      );
      out.push(text(bx + bw / 2, top - 3, format(v), 'class="val" text-anchor="middle"'));
    });
    out.push(text(gi * gw + gw / 2, h + 16, g.label, 'class="tick" text-anchor="middle"'));
  });
  for (const r of refs) {
    const ry = num(s.y(r.value));
    out.push(`<line x1="0" x2="${w}" y1="${ry}" y2="${ry}" stroke="${r.color ?? '#333'}" stroke-dasharray="5,3" stroke-width="1.5"/>`);
  }
  out.push(`<line x1="0" x2="0" y1="0" y2="${h}" class="axis"/><line x1="0" x2="${w}" y1="${h}" y2="${h}" class="axis"/>`);
  // Legend under the axis; reference lines are labelled here rather than on the plot,
  // where their labels would collide with the bars' values.
  let lx = 0;
  for (const se of series) {
    out.push(`<rect x="${lx}" y="${h + 28}" width="12" height="12" fill="${se.color}"/>`, text(lx + 16, h + 38, se.name, 'class="tick"'));
    lx += 24 + se.name.length * 6.5;
  }
  for (const r of refs) {
    const c = r.color ?? '#333';
    out.push(`<line x1="${lx}" x2="${lx + 18}" y1="${h + 34}" y2="${h + 34}" stroke="${c}" stroke-dasharray="5,3" stroke-width="1.5"/>`);
    out.push(text(lx + 22, h + 38, r.label, `class="tick" fill="${c}"`));
    lx += 34 + r.label.length * 6;
  }
  out.push('</g></g>');
  return out.join('\n');
}

/** The targets as a PASS/FAIL list, filling the grid's last cell. */
function targetsPanel({ x, y, targets }) {
  const out = [`<g transform="translate(${x},${y})">`, text(0, 16, 'Targets', 'class="title"')];
  const lineH = Math.min(20, (PANEL_H - 50) / Math.max(1, targets.length));
  targets.forEach((t, i) => {
    const ty = 40 + i * lineH;
    const [mark, color] = t.pass === true ? ['PASS', '#2e7d32'] : t.pass === false ? ['FAIL', '#c62828'] : ['n/a', '#888'];
    out.push(text(0, ty, mark, `class="tick" font-weight="bold" fill="${color}"`));
    out.push(text(40, ty, `${t.description}: ${t.short ?? ''}`, 'class="tick"'));
  });
  out.push('</g>');
  return out.join('\n');
}

const ratioFmt = (v) => `${v.toFixed(2)}x`;
const toMiB = (b) => (typeof b === 'number' ? b / 1048576 : null);
const LOAD_NAMES = ['SET', 'GET', 'INCR', 'MSET', 'SET 1KiB', 'GET 1KiB'];

function byLoad(loads, pick) {
  return LOAD_NAMES.filter((n) => loads.some((l) => l.name === n)).map((name) => ({
    label: name,
    values: [1, 16].map((p) => {
      const l = loads.find((x) => x.name === name && x.pipeline === p);
      return l ? pick(l) : null;
    }),
  }));
}

/** All panels for one results object, as a complete SVG document. */
export function resultsChart(results) {
  const panels = [];
  const tp = results.throughput;
  const pSeries = [
    { name: '-P 1', color: COLORS.p1 },
    { name: '-P 16', color: COLORS.p16 },
  ];
  if (tp) {
    panels.push((x, y) =>
      barPanel({
        x,
        y,
        title: 'Throughput, Shrike / Redis',
        subtitle: `redis-benchmark -c 50, median of ${tp.rounds} round(s); higher is better`,
        groups: byLoad(tp.loads, (l) => l.ratio.rps),
        series: pSeries,
        refs: [
          { value: 1, label: 'target -P 1: 1.0x', color: '#2e7d32' },
          { value: 0.8, label: 'target -P 16: 0.8x', color: '#ef6c00' },
        ],
        format: ratioFmt,
      }),
    );
    panels.push((x, y) =>
      barPanel({
        x,
        y,
        title: 'Server CPU time per request, Shrike / Redis',
        subtitle: 'utime+stime from /proc per request; lower is better',
        groups: byLoad(tp.loads, (l) => l.ratio.cpuPerOp),
        series: pSeries,
        refs: [
          { value: 2, label: 'target -P 16: 2.0x', color: '#ef6c00' },
          { value: 1, label: 'parity', color: '#555' },
        ],
        format: ratioFmt,
      }),
    );
  }
  const ol = results.openloop;
  const serverSeries = [
    { name: 'Redis', color: COLORS.redis },
    { name: 'Shrike', color: COLORS.shrike },
  ];
  if (ol && !ol.skipped) {
    const us = (v) => (v >= 1000 ? `${(v / 1000).toFixed(v >= 10000 ? 0 : 1)}ms` : `${Math.round(v)}µs`);
    panels.push((x, y) =>
      barPanel({
        x,
        y,
        title: 'Open-loop GET latency p99.9 (log scale)',
        subtitle: `loadgen, 50 conns, % of Redis max GET -P 1 (${Math.round(ol.baseRate.rps).toLocaleString('en-US')}/s); lower is better`,
        groups: ol.points.map((p) => ({
          label: `${Math.round(p.fraction * 100)}%`,
          values: [p.median.redis.p999_us, p.median.shrike.p999_us],
        })),
        series: serverSeries,
        refs: [{ value: 1000, label: 'target: < 1 ms', color: '#2e7d32' }],
        scale: 'log',
        format: us,
      }),
    );
  }
  const mem = results.memory;
  if (mem) {
    panels.push((x, y) =>
      barPanel({
        x,
        y,
        title: `Memory with ${mem.keys.toLocaleString('en-US')} keys (16 B keys, 32 B values)`,
        subtitle: `RSS ratio ${mem.ratio.rss?.toFixed(2)}x (target ≤ 1.2x); lower is better`,
        groups: [
          { label: 'RSS empty', values: [mem.redis.empty.rssBytes, mem.shrike.empty.rssBytes].map(toMiB) },
          { label: 'RSS loaded', values: [mem.redis.loaded.rssBytes, mem.shrike.loaded.rssBytes].map(toMiB) },
          { label: 'used_memory', values: [mem.redis.loaded.usedMemory, mem.shrike.loaded.usedMemory].map(toMiB) },
        ],
        series: serverSeries,
        format: (v) => `${Math.round(v)} MiB`,
      }),
    );
  }
  const sc = results.scaling;
  if (sc) {
    panels.push((x, y) =>
      barPanel({
        x,
        y,
        title: 'Shrike scaling: --threads 1 vs 2',
        subtitle: `redis-benchmark -c 50 on CPU ${sc.clientCpu}; requests/s, higher is better`,
        groups: sc.loads.map((l) => ({ label: l.id, values: [l.median.threads1.rps, l.median.threads2.rps] })),
        series: [
          { name: '1 thread', color: COLORS.t1 },
          { name: '2 threads', color: COLORS.t2 },
        ],
        format: (v, tick) => (v >= 1e6 ? `${(v / 1e6).toFixed(tick ? 1 : 2)}M` : `${Math.round(v / 1000)}k`),
      }),
    );
  }

  if (results.targets?.length) panels.push((x, y) => targetsPanel({ x, y, targets: results.targets }));

  const cols = 2;
  const headerH = 54;
  const rows = Math.max(1, Math.ceil(panels.length / cols));
  const W = cols * PANEL_W + 20;
  const H = headerH + rows * PANEL_H + 10;
  const m = results.machine;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif">`,
    '<style>.title{font-size:15px;font-weight:bold;fill:#222}.sub{font-size:11px;fill:#666}.tick{font-size:11px;fill:#444}.val{font-size:10px;fill:#222}.ref{font-size:10px}.grid{stroke:#e5e5e5}.axis{stroke:#888}</style>',
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    text(10, 22, `Shrike vs Redis ${m.redisServer ?? ''} on ${m.name}, ${results.date}`, 'class="title" style="font-size:18px"'),
    text(
      10,
      40,
      `${m.cpuModel ?? ''}, ${m.nproc} CPUs, ${m.kernel}, node ${m.node}, shrike ${m.shrikeCommit ?? '?'}${results.options.quick ? ' — QUICK smoke run, not representative' : ''}`,
      'class="sub"',
    ),
  ];
  panels.forEach((draw, i) => {
    parts.push(draw(10 + (i % cols) * PANEL_W, headerH + Math.floor(i / cols) * PANEL_H));
  });
  if (!panels.length) parts.push(text(10, headerH + 20, 'no sections ran', 'class="sub"'));
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
