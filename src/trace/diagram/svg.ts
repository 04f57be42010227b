// Small helpers for writing SVG as text: XML escaping, fixed-precision numbers (so output is byte-identical between
// runs and platforms), a monospace text-width estimate (layout happens without a DOM, so text is set in DejaVu Sans
// Mono, whose advance is 0.602 em for every glyph it has), and the namespace colour palette shared by the diagrams.
// Limits: the width estimate is exact only for monospace fonts with that advance; wide (CJK) glyphs are not measured.

/** Font stack for every label; the first entry is what the width estimate assumes. */
export const FONT_FAMILY = "'DejaVu Sans Mono', Menlo, Consolas, monospace";
const ADVANCE_EM = 0.602;

// XML 1.0 forbids most C0 controls, lone surrogates and U+FFFE/U+FFFF even when escaped; they become U+FFFD.
function xmlSafe(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        out += s[i]! + s[i + 1]!;
        i++;
        continue;
      }
    }
    const bad =
      (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) ||
      (c >= 0xd800 && c <= 0xdfff) ||
      c === 0xfffe ||
      c === 0xffff;
    out += bad ? '\ufffd' : s[i]!;
  }
  return out;
}

/** Escapes text for element content and attribute values alike. */
export function esc(s: string): string {
  return xmlSafe(s)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** A coordinate with at most one decimal, no trailing zeros, no `-0`. */
export function num(n: number): string {
  const r = Math.round(n * 10) / 10;
  return Object.is(r, -0) ? '0' : String(r);
}

export function textWidth(s: string, fontSize: number): number {
  return [...s].length * fontSize * ADVANCE_EM;
}

/** Cuts `s` to at most `max` characters, ending in an ellipsis when cut. */
export function ellipsize(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : `${chars.slice(0, Math.max(1, max - 1)).join('')}…`;
}

/** Namespace colours; red is kept for drops. */
export const NS_PALETTE = [
  '#1f77b4',
  '#2ca02c',
  '#9467bd',
  '#ff7f0e',
  '#17becf',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#393b79',
] as const;

export const DROP_COLOUR = '#d62728';

/** Mixes a `#rrggbb` colour with white; `amount` 0 keeps the colour, 1 gives white. */
export function tint(hex: string, amount: number): string {
  const n = Number.parseInt(hex.slice(1), 16);
  const ch = (shift: number) => {
    const c = (n >> shift) & 255;
    return Math.round(c + (255 - c) * amount)
      .toString(16)
      .padStart(2, '0');
  };
  return `#${ch(16)}${ch(8)}${ch(0)}`;
}

export interface TextOpts {
  size: number;
  anchor?: 'start' | 'middle' | 'end';
  fill?: string;
  weight?: 'bold';
  /** Draws a white halo behind the glyphs so lines underneath do not cut through the text. */
  halo?: boolean;
  cls?: string;
}

export function text(x: number, y: number, content: string, o: TextOpts): string {
  let a = `<text x="${num(x)}" y="${num(y)}" font-size="${num(o.size)}"`;
  if (o.anchor && o.anchor !== 'start') a += ` text-anchor="${o.anchor}"`;
  if (o.fill) a += ` fill="${o.fill}"`;
  if (o.weight) a += ` font-weight="${o.weight}"`;
  if (o.halo) a += ' stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke"';
  if (o.cls) a += ` class="${o.cls}"`;
  return `${a}>${esc(content)}</text>`;
}

/** Wraps the body in an `<svg>` of whole-pixel size (rasterisers round fractional sizes differently). */
export function svgDocument(w: number, h: number, body: string[], title?: string): string {
  const width = Math.ceil(w);
  const height = Math.ceil(h);
  const head = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${num(width)}" height="${num(height)}" viewBox="0 0 ${num(width)} ${num(height)}" font-family="${esc(FONT_FAMILY)}">`,
  ];
  if (title !== undefined) head.push(`<title>${esc(title)}</title>`);
  head.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  return `${[...head, ...body, '</svg>'].join('\n')}\n`;
}
