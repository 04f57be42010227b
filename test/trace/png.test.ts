import { describe, expect, it } from 'vitest';
import { renderSequenceSvg } from '../../src/trace/diagram/sequence.js';
import { renderTopologySvg } from '../../src/trace/diagram/topology.js';
import { svgToPng } from '../../src/trace/png.js';
import { routedWithTtlDrop } from './sample-events.js';
import { clusterTopology } from './sample-topology.js';

/** Width and height from the PNG's IHDR chunk, after checking the signature. */
function pngSize(png: Uint8Array): [number, number] {
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const v = new DataView(png.buffer, png.byteOffset, png.byteLength);
  expect(String.fromCharCode(...png.subarray(12, 16))).toBe('IHDR');
  return [v.getUint32(16), v.getUint32(20)];
}

const svgSize = (svg: string) => {
  const m = /<svg[^>]* width="(\d+)" height="(\d+)"/.exec(svg)!;
  return [Number(m[1]), Number(m[2])];
};

describe('svgToPng', () => {
  it('rasterises both diagrams at their own size, and scaled', () => {
    for (const svg of [
      renderSequenceSvg(routedWithTtlDrop(), { title: 'ttl' }),
      renderTopologySvg(clusterTopology()),
    ]) {
      const [w, h] = svgSize(svg);
      expect(pngSize(svgToPng(svg))).toEqual([w, h]);
      expect(pngSize(svgToPng(svg, { scale: 2 }))).toEqual([w * 2, h * 2]);
    }
  });

  it('draws text: a label changes the pixels', () => {
    const base = (t: string) =>
      `<svg xmlns="http://www.w3.org/2000/svg" width="80" height="30"><rect width="100%" height="100%" fill="#fff"/><text x="4" y="20" font-size="14" font-family="DejaVu Sans Mono, monospace">${t}</text></svg>`;
    const a = svgToPng(base(''));
    const b = svgToPng(base('eth0'));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
  });

  it('reports malformed SVG', () => {
    expect(() => svgToPng('<svg xmlns="http://www.w3.org/2000/svg"><g></svg>')).toThrow();
  });
});
