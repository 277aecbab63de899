/**
 * Turns one run's JSON into docs/benchmarks.md (tables) and docs/benchmarks.svg (chart, a plain
 * SVG string: no dependency). The prose in bench/findings.md is included verbatim.
 *
 *   npx tsx bench/report.ts [bench/results/full.json]
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CaseResult, Chart, RunResult, SuiteResult } from './lib/harness.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** A cell of a results table as text: primitives as they are, anything else as JSON. */
const txt = (v: unknown): string => {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return v.toString();
  return JSON.stringify(v);
};

const num = (x: unknown, digits?: number): string => {
  if (typeof x !== 'number' || !Number.isFinite(x)) return txt(x);
  if (digits !== undefined) return x.toFixed(digits);
  const a = Math.abs(x);
  if (a >= 1000) return x.toFixed(0);
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  return x.toFixed(2);
};
const mib = (x: unknown) => (typeof x === 'number' ? `${(x / 2 ** 20).toFixed(1)}` : '');
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const cell = (v: unknown, key = ''): string => {
  if (typeof v === 'boolean') return v ? '✅ yes' : '❌ no';
  if (typeof v === 'number') {
    if (/chunkSize|fileBytes/i.test(key)) return v >= 2 ** 20 ? `${v / 2 ** 20} MiB` : `${v / 1024} KiB`;
    if (Number.isInteger(v) && Math.abs(v) < 65536) return String(v);
    if (/bytes|alloc|rss|peak|bound|held|base|limit/i.test(key) && !/ms$/i.test(key) && !/ratio/i.test(key) && Math.abs(v) >= 65536)
      return `${mib(v)} MiB`;
    if (/ratio|^vs/i.test(key)) return `${num(v, 2)}×`;
    return num(v);
  }
  return txt(v).replace(/\|/g, '\\|');
};

function casesTable(cases: CaseResult[]): string {
  const hasAlloc = cases.some((c) => c.alloc);
  const hasMbps = cases.some((c) => c.mbps !== undefined);
  const head = [
    'case',
    'median ms',
    'min ms',
    ...(hasMbps ? ['MB/s'] : []),
    'benny ±%',
    'samples',
    ...(hasAlloc ? ['retained Δ MiB/op', 'peak MiB/op', 'GCs/op'] : []),
  ];
  const rows = cases.map((c) => [
    c.name,
    num(c.medianMs),
    num(c.minMs),
    ...(hasMbps ? [c.mbps !== undefined ? num(c.mbps, 0) : ''] : []),
    num(c.benny.margin, 1),
    String(c.timesMs.length),
    ...(hasAlloc ? (c.alloc ? [mib(c.alloc.retainedDelta), mib(c.alloc.peakAbove), num(c.alloc.gcs, 1)] : ['', '', '']) : []),
  ]);
  return table(head, rows);
}

function derivedTable(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return '';
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((k) => rows.some((r) => r[k] !== undefined));
  return table(
    keys,
    rows.map((r) => keys.map((k) => cell(r[k], k))),
  );
}

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** One horizontal bar chart panel per suite that has a chart; stacked vertically. */
export function renderSvg(run: RunResult): string {
  const panels = run.suites.filter((s): s is SuiteResult & { chart: Chart } => !!s.chart && s.chart.bars.length > 0);
  const width = 860;
  const labelW = 290;
  const plotW = width - labelW - 90;
  const barH = 16;
  const gap = 5;
  const palette = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#b07aa1'];
  let y = 40;
  const parts: string[] = [];
  parts.push(
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">chunkstream benchmarks — ${esc(run.date.slice(0, 10))}, ${run.machine.cpus} cores, Node ${esc(run.machine.node)} (${run.mode} run)</text>`,
  );
  for (const p of panels) {
    const { chart } = p;
    const max = Math.max(...chart.bars.map((b) => b.value), ...(chart.lines ?? []).map((l) => l.value)) * 1.1 || 1;
    const sx = (v: number) => labelW + (Math.max(0, v) / max) * plotW;
    const groups = [...new Set(chart.bars.map((b) => b.group ?? ''))];
    const top = y;
    parts.push(`<text x="10" y="${y + 14}" font-size="13" font-weight="bold">${esc(chart.title)}</text>`);
    parts.push(`<text x="${width - 10}" y="${y + 14}" font-size="11" text-anchor="end" fill="#555">${esc(chart.unit)}</text>`);
    y += 24;
    const plotTop = y;
    for (const b of chart.bars) {
      const color = palette[groups.indexOf(b.group ?? '') % palette.length];
      parts.push(`<text x="${labelW - 6}" y="${y + barH - 4}" font-size="11" text-anchor="end">${esc(b.label)}</text>`);
      parts.push(`<rect x="${labelW}" y="${y}" width="${(sx(b.value) - labelW).toFixed(1)}" height="${barH}" fill="${color}"/>`);
      parts.push(`<text x="${(sx(b.value) + 4).toFixed(1)}" y="${y + barH - 4}" font-size="11">${esc(num(b.value))}</text>`);
      y += barH + gap;
    }
    for (const [i, l] of (chart.lines ?? []).entries()) {
      const x = sx(l.value).toFixed(1);
      parts.push(`<line x1="${x}" y1="${plotTop - 4}" x2="${x}" y2="${y}" stroke="#c00" stroke-dasharray="4 3" stroke-width="1.2"/>`);
      parts.push(`<text x="${x}" y="${y + 12 + i * 12}" font-size="10" fill="#c00" text-anchor="middle">${esc(l.label)}</text>`);
    }
    y += 14 + (chart.lines?.length ?? 0) * 12;
    parts.push(`<line x1="${labelW}" y1="${plotTop - 4}" x2="${labelW}" y2="${y - 14 - (chart.lines?.length ?? 0) * 12}" stroke="#333"/>`);
    y += 16;
    void top;
  }
  const height = y + 10;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif">\n<rect width="100%" height="100%" fill="#fff"/>\n${parts.join('\n')}\n</svg>\n`;
}

type Row = Record<string, unknown>;
const mark = (ok: boolean) => (ok ? '✅' : '❌');
const x2 = (v: unknown) => (typeof v === 'number' ? `${v.toFixed(2)}×` : '?');

/** Growth of RSS above base from the smallest to the largest file, per scenario: flat or not. */
function flatness(rows: Row[]): string[] {
  const out: string[] = [];
  for (const sc of [...new Set(rows.map((r) => String(r.scenario)))]) {
    const rs = rows.filter((r) => r.scenario === sc).sort((a, b) => Number(a.fileBytes) - Number(b.fileBytes));
    if (rs.length < 2) continue;
    const [a, b] = [rs[0]!, rs.at(-1)!];
    const grew = Number(b.aboveBase) - Number(a.aboveBase);
    out.push(
      `**${sc.replace(/ \(.*\)/, '')}: ${grew > 32 * 2 ** 20 ? 'not flat' : 'flat'}** (+${mib(a.aboveBase)} → +${mib(b.aboveBase)} MiB for ${mib(a.fileBytes)} → ${mib(b.fileBytes)} MiB files)`,
    );
  }
  return out;
}

const MANY_CLIENTS = 100;

/** One line per scenario: the target, and what this run measured against it. */
function verdicts(run: RunResult): string {
  const by = (name: string) => run.suites.find((s) => s.suite === name);
  const lines: string[][] = [];
  const skipped = (name: string) => {
    const s = by(name);
    return !s ? 'not in this run' : s.skipped ? `not run: ${s.skipped.replace(/^not run: /, '')}` : undefined;
  };
  const dl = by('download');
  lines.push([
    '1. ordered retrieve, page cache, 12 × 10 MiB',
    '≥ 1.5 GB/s verified (Go ref., unverified: 511 MB/s N=1, 496 MB/s N=5)',
    skipped('download') ??
      (dl!.derived as Row[])
        .filter((r) => r.chunkSize === 10 * 2 ** 20)
        .map((r) => `${txt(r.variant)} N=${txt(r.n)}: ${num(r.mbps, 0)} MB/s ${mark(Number(r.mbps) >= 1500)}`)
        .join('; '),
  ]);
  const lat = by('latency');
  lines.push([
    '2. ordered retrieve, 50 ms per read',
    '≤ 1.2 × max(ceil(12/N)×50 ms, T0) at every N; ≤ 150 ms at 5–6 reads in flight',
    skipped('latency') ??
      [...new Set((lat!.derived as Row[]).map((r) => String(r.variant)))]
        .map((v) => {
          const rows = (lat!.derived as Row[]).filter((r) => r.variant === v);
          const six = rows.find((r) => r.n === 6);
          const at6 = six ? `; N=6 ${num(six.timeMs, 0)} ms${mark(Number(six.timeMs) <= 150)}` : '';
          return `${v}: ${rows.map((r) => `N=${txt(r.n)} ${x2(r.ratio)}${mark(r.met === true)}`).join(' ')}${at6}`;
        })
        .join('; '),
  ]);
  const up = by('upload');
  lines.push([
    '3. upload of a 512 MiB file (CLI put, fs store)',
    '≥ 0.6 × one-core SHA-256 and ≥ 0.6 × cp + sync',
    skipped('upload') ??
      (up!.derived as Row[])
        .map((r) => `${txt(r.variant)}: ${x2(r.vsSha256)} SHA-256, ${x2(r.vsCpSync)} cp + sync ${mark(r.met === true)}`)
        .join('; '),
  ]);
  for (const [name, label, target, what] of [
    ['http', '4. HTTP GET 512 MiB (curl)', '≥ 0.5 × nginx', 'of nginx'],
    ['websocket', '5. WebSocket download 512 MiB (server + SDK)', '≥ 0.8 × raw ws', 'of raw ws'],
  ] as const) {
    const d = by(name)?.derived?.[0];
    // Scenario 5 also runs both clients in a process of their own, out of V8's full-GC band.
    const own =
      d?.ownProcessRatio !== undefined
        ? `; clients in their own process, out of V8's GC band: ${x2(d.ownProcessRatio)} ${mark(d.ownProcessMet === true)}`
        : '';
    // Scenario 4: the ratio is hot (the chunk cache); cold and 100 clients on one hot file beside it.
    const cache =
      d?.coldRatio !== undefined
        ? `; cold (no cache) ${x2(d.coldRatio)}; ${MANY_CLIENTS} clients on one hot file ${x2(d.manyRatio)} ${mark(Number(d.manyRatio) >= 0.8)}`
        : '';
    lines.push([label, target, skipped(name) ?? (d ? `${x2(d.ratio)} ${what} ${mark(d.met === true)}${own}${cache}` : 'no result')]);
  }
  const mem = by('memory');
  lines.push([
    '6. server peak RSS',
    'flat in file size; ≤ bound + 64 MiB (one transfer)',
    skipped('memory') ??
      (mem!.derived as Row[])
        .map(
          (r) =>
            `${String(r.scenario).replace(/ \(.*\)/, '')} ${mib(r.fileBytes)} MiB: +${mib(r.aboveBase)} MiB (bound +${mib(r.boundAboveBase)}) ${mark(r.met === true)}`,
        )
        .concat(flatness(mem!.derived))
        .join('; '),
  ]);
  const browser = by('browser')?.derived ?? [];
  lines.push([
    '7. SDK in Chromium',
    '≥ 0.5 × the page’s fetch() (download; upload vs PUT)',
    skipped('browser') ?? browser.map((r) => `${txt(r.direction)} ${x2(r.ratio)} ${mark(r.met === true)}`).join('; '),
  ]);
  return table(['scenario', 'target', 'measured in this run'], lines);
}

export function renderMarkdown(run: RunResult, svgName: string): string {
  const m = run.machine;
  const findings = existsSync(path.join(here, 'findings.md')) ? readFileSync(path.join(here, 'findings.md'), 'utf8').trim() : '';
  const out: string[] = [];
  out.push('# Benchmarks');
  out.push('');
  out.push('<!-- Generated by bench/report.ts from bench/results/*.json: edit bench/findings.md or the suites, not this file. -->');
  out.push('');
  out.push(
    `Measured **${run.date.replace('T', ' ').slice(0, 16)} UTC** on **${m.cpus} cores** (${m.cpuModel}), **Node ${m.node}** (V8 ${m.v8}), ${m.platform}, ${m.totalMemGiB} GiB RAM — a ${run.mode} run, \`${run.command}\`, ${(run.durationMs / 1000).toFixed(0)} s. The machine was shared with other work, so absolute numbers are noisy; the ratios compare cases measured side by side in the same run. MB = 10⁶ bytes.`,
  );
  out.push('');
  out.push(
    'Benchmarks are not tests: CI does not run them. Run them with `npm run bench` (full, writes bench/results/full.json and regenerates this page) or `npm run bench -- --quick` (about a minute; `--only=latency,upload` picks suites).',
  );
  out.push('');
  out.push('## Targets');
  out.push('');
  out.push(verdicts(run));
  out.push('');
  out.push(`![chart](${svgName})`);
  out.push('');
  if (findings) {
    out.push(findings);
    out.push('');
  }
  out.push('## Results');
  for (const s of run.suites) {
    out.push('');
    out.push(`### ${s.title}`);
    out.push('');
    if (s.skipped) {
      out.push(`**Not run:** ${s.skipped}`);
      for (const n of s.notes) out.push(`\n${n}`);
      continue;
    }
    const setup = Object.entries(s.setup);
    if (setup.length) {
      out.push(setup.map(([k, v]) => `- ${k}: ${typeof v === 'number' && v >= 65536 ? `${mib(v)} MiB` : String(v)}`).join('\n'));
      out.push('');
    }
    if (s.derived.length) {
      out.push(derivedTable(s.derived));
      out.push('');
    }
    if (s.cases.length) {
      out.push('<details><summary>all cases</summary>\n');
      out.push(casesTable(s.cases));
      out.push('\n</details>');
      out.push('');
    }
    for (const n of s.notes) out.push(`- ${n}`);
  }
  out.push('');
  return out.join('\n');
}

export function writeDocs(run: RunResult, root: string): string[] {
  const docsDir = path.join(root, 'docs');
  mkdirSync(docsDir, { recursive: true });
  const svgFile = path.join(docsDir, 'benchmarks.svg');
  const mdFile = path.join(docsDir, 'benchmarks.md');
  writeFileSync(svgFile, renderSvg(run));
  writeFileSync(mdFile, renderMarkdown(run, 'benchmarks.svg'));
  return [mdFile, svgFile];
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = process.argv[2] ?? path.join(here, 'results', 'full.json');
  const run = JSON.parse(readFileSync(file, 'utf8')) as RunResult;
  const written = writeDocs(run, path.resolve(here, '..'));
  console.log(`wrote ${written.join(', ')} from ${file}`);
}
