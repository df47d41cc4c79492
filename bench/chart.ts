// A hand-drawn SVG: one panel per workload, one horizontal bar per contender, the figure printed
// at the end of each bar. Redox bars are orange, the peers grey-blue.
import { WorkloadResult } from './workloads';

const WIDTH = 860;
const LABEL = 210;
const BAR_AREA = 420;
const BAR = 18;
const GAP = 6;
const REDOX = '#d35400';
const PEER = '#5d7a99';
const REFERENCE = '#b0b0b0';

interface Bar { label: string; value: number; text: string; color: string }

export function renderChart(results: WorkloadResult[], subtitle: string): string {
  const parts: string[] = [];
  let y = 80;
  for (const w of results) {
    const { heading, bars } = w.cold ? coldBars(w) : throughputBars(w);
    if (bars.length === 0) continue;
    parts.push(text(16, y, heading, 'font-weight="bold" font-size="14"'));
    y += 10;
    const max = Math.max(...bars.map((b) => b.value), 1);
    for (const b of bars) {
      parts.push(text(LABEL - 8, y + BAR - 5, b.label, 'text-anchor="end"'));
      const len = b.value > 0 ? Math.max(1, (b.value / max) * BAR_AREA) : 0;
      if (len) parts.push(`<rect x="${LABEL}" y="${y}" width="${len.toFixed(1)}" height="${BAR}" rx="2" fill="${b.color}"/>`);
      parts.push(text(LABEL + len + 6, y + BAR - 5, b.text, b.value > 0 ? '' : 'fill="#888"'));
      y += BAR + GAP;
    }
    y += 22;
  }
  const height = y;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, 'DejaVu Sans', sans-serif" font-size="12" fill="#222">`,
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    text(16, 24, 'Redox benchmark (npm run bench)', 'font-weight="bold" font-size="17"'),
    text(16, 42, subtitle, 'fill="#555"'),
    `<rect x="16" y="52" width="12" height="12" fill="${REDOX}"/>`, text(34, 62, 'Redox'),
    `<rect x="84" y="52" width="12" height="12" fill="${PEER}"/>`, text(102, 62, 'peers'),
    `<rect x="152" y="52" width="12" height="12" fill="${REFERENCE}"/>`, text(170, 62, 'harness reference'),
    ...parts,
    '</svg>',
  ].join('\n') + '\n';
}

function throughputBars(w: WorkloadResult): { heading: string; bars: Bar[] } {
  const bars = (w.rows ?? []).map((r) => ({
    label: r.name, value: r.skipped ? 0 : r.rps, color: colorOf(r.name),
    text: r.skipped ? 'skipped' : `${Math.round(r.rps).toLocaleString('en-US')} req/s  (p99 ${r.p99.toFixed(1)} ms)`,
  }));
  return { heading: `${w.title}: req/s, higher is better`, bars };
}

function coldBars(w: WorkloadResult): { heading: string; bars: Bar[] } {
  const bars = (w.cold ?? []).map((c) => ({
    label: c.name, value: c.skipped ? 0 : c.medianMs, color: colorOf(c.name),
    text: c.skipped ? 'skipped' : `${Math.round(c.medianMs).toLocaleString('en-US')} ms`,
  }));
  return { heading: `${w.title}: ms, lower is better`, bars };
}

const colorOf = (name: string) => (name.startsWith('Redox') ? REDOX : name.includes('(ceiling)') ? REFERENCE : PEER);

function text(x: number, y: number, s: string, attrs = ''): string {
  return `<text x="${x.toFixed(1)}" y="${y}"${attrs ? ' ' + attrs : ''}>${escape(s)}</text>`;
}

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
