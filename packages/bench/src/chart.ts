/**
 * A small SVG writer for the headline chart: one panel per comparison,
 * horizontal bars in groups, each bar labelled with its median and its
 * ratio, a whisker from min to max, the run's context under the title.
 * Plain strings, no dependency: the chart is a few dozen shapes.
 */
import { fmt } from './report.js';
import { type Bar, type Comparison, ratioText, valueText } from './summary.js';

const WIDTH = 1000;
const MARGIN = 16;
const LABEL_W = 300;
const BAR_X = MARGIN + LABEL_W;
const BAR_MAX_W = 380;
const ROW_H = 20;
const BAR_H = 13;
const GROUP_H = 22;
const FONT = 'system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif';
const OURS = '#2563eb';
const PEER = '#9ca3af';

/** Escapes text for an SVG text node or attribute. */
export function escapeXml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

function text(x: number, y: number, s: string, attrs = ''): string {
  return `<text x="${fmt(x, 1)}" y="${fmt(y, 1)}"${attrs === '' ? '' : ` ${attrs}`}>${escapeXml(s)}</text>`;
}

/** The x extent of a value on a scale whose full width is `max`. */
function scale(v: number, max: number): number {
  return max > 0 && Number.isFinite(v) ? (Math.max(0, v) / max) * BAR_MAX_W : 0;
}

/** One bar row at `y` (its top): label, bar, whisker, value and ratio. */
function barRow(b: Bar, y: number, max: number, unit: string): string[] {
  const w = scale(b.median, max);
  const mid = y + BAR_H / 2;
  const out = [
    text(BAR_X - 8, mid + 4, b.label, 'text-anchor="end"'),
    `<rect x="${BAR_X}" y="${y}" width="${fmt(Math.max(w, 1), 1)}" height="${BAR_H}" fill="${b.ours ? OURS : PEER}"/>`,
  ];
  let end = BAR_X + Math.max(w, 1);
  if (b.runs > 1 && b.max > b.min) {
    const x1 = BAR_X + scale(b.min, max);
    const x2 = BAR_X + scale(b.max, max);
    out.push(
      `<path d="M${fmt(x1, 1)} ${fmt(mid, 1)}H${fmt(x2, 1)}M${fmt(x1, 1)} ${fmt(mid - 4, 1)}V${fmt(mid + 4, 1)}M${fmt(x2, 1)} ${fmt(mid - 4, 1)}V${fmt(mid + 4, 1)}" stroke="#111827" stroke-width="1" fill="none"/>`,
    );
    end = Math.max(end, x2);
  }
  const ratio = ratioText(b);
  const label = `${valueText(b.median)} ${unit}${ratio === '' ? '' : ` · ${ratio}`}`;
  out.push(text(end + 6, mid + 4, label, b.ours && b.ratio !== null ? 'font-weight="600"' : ''));
  return out;
}

/** The chart of `list`, one panel each, as a standalone SVG document. */
export function headlineSvg(list: Comparison[]): string {
  const body: string[] = [];
  let y = MARGIN;
  for (const c of list) {
    y += 16;
    body.push(
      text(
        MARGIN,
        y,
        `${c.title}${c.lowerIsBetter ? ' (lower is better)' : ''}`,
        'font-size="15" font-weight="700"',
      ),
    );
    for (const line of c.context) {
      y += 15;
      body.push(text(MARGIN, y, line, 'font-size="11" fill="#4b5563"'));
    }
    y += 8;
    const groupsTop = y;
    const panelMax = Math.max(
      ...c.groups.flatMap((g) => g.bars.map((b) => Math.max(b.median, b.max))),
    );
    for (const g of c.groups) {
      const max = c.scalePerGroup
        ? Math.max(...g.bars.map((b) => Math.max(b.median, b.max)))
        : panelMax;
      y += GROUP_H;
      body.push(text(MARGIN, y - 6, g.label, 'font-weight="700"'));
      for (const b of g.bars) {
        body.push(...barRow(b, y, max, c.unit));
        y += ROW_H;
      }
    }
    // The zero line, behind nothing: bars start on it.
    body.push(
      `<line x1="${BAR_X}" y1="${groupsTop + 8}" x2="${BAR_X}" y2="${y - ROW_H + BAR_H + 2}" stroke="#6b7280"/>`,
    );
    y += 18;
  }
  if (list.length === 0) {
    y += 20;
    body.push(
      text(MARGIN, y, 'No headline results yet: run the sender, crc32c and sender-latency suites.'),
    );
    y += 20;
  }
  const height = Math.ceil(y + MARGIN);
  const title = 'qwp-node headline benchmarks';
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="${escapeXml(title)}" font-family="${FONT}" font-size="12" fill="#111827">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
