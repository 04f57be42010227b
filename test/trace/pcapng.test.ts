import { describe, expect, it } from 'vitest';
import { EventQueue } from '../../src/sim/events.js';
import { PcapngWriter } from '../../src/trace/pcapng.js';
import { Tracer } from '../../src/trace/recorder.js';
import { type ByteSink, MemoryByteSink } from '../../src/trace/sink.js';
import { reply, request } from './frames.js';

interface Block {
  type: number;
  body: Uint8Array;
  options: { code: number; value: Uint8Array }[];
}

const dec = new TextDecoder();

/** Splits a little-endian pcapng file into blocks, checking both length fields and 32-bit alignment. */
function blocks(b: Uint8Array): { type: number; total: number; raw: Uint8Array }[] {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out = [];
  let off = 0;
  while (off < b.length) {
    const type = v.getUint32(off, true);
    const total = v.getUint32(off + 4, true);
    expect(total % 4).toBe(0);
    expect(v.getUint32(off + total - 4, true)).toBe(total);
    out.push({ type, total, raw: b.subarray(off, off + total) });
    off += total;
  }
  expect(off).toBe(b.length);
  return out;
}

/** Reads options starting at `off` inside a block, checking padding bytes are zero and the list ends properly. */
function options(raw: Uint8Array, off: number): Block['options'] {
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out: Block['options'] = [];
  for (;;) {
    const code = v.getUint16(off, true);
    const len = v.getUint16(off + 2, true);
    if (code === 0) {
      expect(len).toBe(0);
      expect(off + 4).toBe(raw.length - 4);
      return out;
    }
    out.push({ code, value: raw.slice(off + 4, off + 4 + len) });
    const padded = (len + 3) & ~3;
    expect([...raw.subarray(off + 4 + len, off + 4 + padded)].every((x) => x === 0)).toBe(true);
    off += 4 + padded;
  }
}

function parse(b: Uint8Array) {
  const bs = blocks(b);
  const shb = bs[0]!;
  expect(shb.type).toBe(0x0a0d0d0a);
  const sv = new DataView(shb.raw.buffer, shb.raw.byteOffset, shb.raw.byteLength);
  const section = {
    bom: sv.getUint32(8, true),
    major: sv.getUint16(12, true),
    minor: sv.getUint16(14, true),
    length: sv.getBigInt64(16, true),
    options: options(shb.raw, 24),
  };
  const idbs: { linkType: number; reserved: number; snapLen: number; options: Block['options'] }[] = [];
  const epbs: { iface: number; ts: bigint; capLen: number; origLen: number; data: Uint8Array; flags: number[] }[] = [];
  const order: string[] = [];
  for (const blk of bs.slice(1)) {
    const v = new DataView(blk.raw.buffer, blk.raw.byteOffset, blk.raw.byteLength);
    if (blk.type === 1) {
      order.push('idb');
      idbs.push({
        linkType: v.getUint16(8, true),
        reserved: v.getUint16(10, true),
        snapLen: v.getUint32(12, true),
        options: options(blk.raw, 16),
      });
    } else if (blk.type === 6) {
      order.push('epb');
      const capLen = v.getUint32(20, true);
      const padded = (capLen + 3) & ~3;
      expect([...blk.raw.subarray(28 + capLen, 28 + padded)].every((x) => x === 0)).toBe(true);
      const opts = options(blk.raw, 28 + padded);
      expect(opts.map((o) => o.code)).toEqual([2]);
      expect(opts[0]!.value.length).toBe(4);
      epbs.push({
        iface: v.getUint32(8, true),
        ts: (BigInt(v.getUint32(12, true)) << 32n) | BigInt(v.getUint32(16, true)),
        capLen,
        origLen: v.getUint32(24, true),
        data: blk.raw.slice(28, 28 + capLen),
        flags: opts.map((o) => new DataView(o.value.buffer).getUint32(0, true)),
      });
    } else throw new Error(`unexpected block type ${blk.type}`);
  }
  return { section, idbs, epbs, order };
}

const iface = (id: number, ns: string, dev: string, snapLen = 262144) => ({ id, ns, dev, linkType: 1, snapLen });

describe('PcapngWriter', () => {
  it('opens with a section header naming podwire', () => {
    const m = new MemoryByteSink();
    new PcapngWriter(m).close();
    const { section, idbs, epbs } = parse(m.bytes());
    expect(section.bom).toBe(0x1a2b3c4d);
    expect([section.major, section.minor]).toEqual([1, 0]);
    expect(section.length).toBe(-1n);
    expect(section.options.map((o) => [o.code, dec.decode(o.value)])).toEqual([[4, 'podwire']]);
    expect(idbs).toEqual([]);
    expect(epbs).toEqual([]);
    // 28 fixed bytes + shb_userappl (4 + 8 padded) + opt_endofopt (4) = 44
    expect(m.bytes().length).toBe(44);
    expect([...m.bytes().subarray(0, 12)]).toEqual([0x0a, 0x0d, 0x0d, 0x0a, 44, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a]);
  });

  it('describes each device once, before its first frame, with name, nanosecond resolution and link type', () => {
    const m = new MemoryByteSink();
    const w = new PcapngWriter(m);
    w.addInterface(iface(0, 'a', 'eth0'));
    w.addInterface(iface(1, 'idle', 'lo'));
    w.addInterface(iface(2, 'b', 'eth0', 96));
    w.frame(2, 10, request(1), 'rx');
    w.frame(0, 5, request(1), 'tx');
    w.frame(2, 11, reply(1), 'tx');
    w.close();
    const { idbs, epbs, order } = parse(m.bytes());
    expect(order).toEqual(['idb', 'epb', 'idb', 'epb', 'epb']);
    expect(idbs.map((i) => [i.linkType, i.reserved, i.snapLen])).toEqual([
      [1, 0, 96],
      [1, 0, 262144],
    ]);
    expect(idbs.map((i) => i.options.map((o) => [o.code, [...o.value]]))).toEqual([
      [
        [2, [...new TextEncoder().encode('b/eth0')]],
        [9, [9]],
      ],
      [
        [2, [...new TextEncoder().encode('a/eth0')]],
        [9, [9]],
      ],
    ]);
    // The tracer's interface ids map onto the order the IDBs were written in.
    expect(epbs.map((e) => e.iface)).toEqual([0, 1, 0]);
    expect(epbs.map((e) => e.flags[0])).toEqual([1, 2, 2]); // inbound, outbound, outbound
    expect(epbs[0]!.capLen).toBe(96);
    expect(epbs[0]!.origLen).toBe(98);
    expect(epbs[0]!.data).toEqual(request(1).subarray(0, 96));
    expect(epbs[1]!.capLen).toBe(98); // not a multiple of 4: two bytes of padding, checked by the parser
    expect(epbs[1]!.data).toEqual(request(1));
  });

  it('writes the full 64-bit nanosecond timestamp, high word first', () => {
    const m = new MemoryByteSink();
    const w = new PcapngWriter(m);
    w.addInterface(iface(0, 'a', 'eth0'));
    const ts = [0, 1_500_000_000, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 7, 2 ** 53 - 1];
    for (const t of ts) w.frame(0, t, request(1), 'tx');
    const { epbs } = parse(m.bytes());
    expect(epbs.map((e) => e.ts)).toEqual(ts.map(BigInt));
    const raw = m.bytes();
    // first EPB after SHB (44) and IDB: its timestamp words sit at +12 and +16
    const idbLen = new DataView(raw.buffer).getUint32(44 + 4, true);
    const epb = new DataView(raw.buffer, 44 + idbLen);
    expect(epb.getUint32(0, true)).toBe(6);
    expect([epb.getUint32(12, true), epb.getUint32(16, true)]).toEqual([0, 0]);
    expect(() => w.frame(0, 0.5, request(1), 'tx')).toThrow(RangeError);
  });

  it('is driven by the Tracer and streams a block per frame', () => {
    const writes: number[] = [];
    const sink: ByteSink = { write: (c) => writes.push(c.length), close: () => {} };
    const q = new EventQueue();
    const tr = new Tracer(q);
    tr.frame('a', 'eth0', request(1), 'tx'); // seen before the sink exists: registered when it is added
    tr.addSink(new PcapngWriter(sink));
    expect(writes).toEqual([44]);
    q.schedule(1000, () => tr.frame('b', 'eth0', request(1), 'rx'));
    q.run();
    expect(writes.length).toBe(3); // IDB + EPB
    q.schedule(1000, () => tr.frame('a', 'eth0', reply(1), 'rx'));
    q.run();
    expect(writes.length).toBe(5);
    tr.closeSinks();
  });

  it('rejects frames for unknown interfaces and after close', () => {
    const m = new MemoryByteSink();
    const w = new PcapngWriter(m, { userAppl: 'other' });
    expect(() => w.frame(3, 0, request(1), 'tx')).toThrow(/unknown interface 3/);
    w.addInterface(iface(3, 'a', 'eth0'));
    w.close();
    expect(() => w.frame(3, 0, request(1), 'tx')).toThrow(/after close/);
    expect(dec.decode(parse(m.bytes()).section.options[0]!.value)).toBe('other');
  });
});
