// Rasterises the SVG diagrams with resvg (a Rust SVG renderer shipped as a prebuilt npm binary), for reports and
// terminals that cannot show SVG. Text falls back to the DejaVu families, which the diagrams' layout assumes and
// which most Linux systems carry; system fonts are loaded on every call. Limits: no CSS beyond presentation
// attributes (resvg's subset), and a missing font family silently falls back to whatever the system has.

import { Resvg } from '@resvg/resvg-js';

export interface PngOptions {
  /** Zoom factor (default 1). */
  scale?: number;
  /** Background colour; transparent where the SVG paints nothing if unset. */
  background?: string;
}

export function svgToPng(svg: string, opts: PngOptions = {}): Uint8Array {
  const r = new Resvg(svg, {
    font: {
      loadSystemFonts: true,
      defaultFontFamily: 'DejaVu Sans',
      sansSerifFamily: 'DejaVu Sans',
      serifFamily: 'DejaVu Serif',
      monospaceFamily: 'DejaVu Sans Mono',
    },
    fitTo: opts.scale !== undefined && opts.scale !== 1 ? { mode: 'zoom', value: opts.scale } : { mode: 'original' },
    ...(opts.background !== undefined ? { background: opts.background } : {}),
  });
  const png = r.render().asPng();
  return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
}
