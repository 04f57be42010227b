import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EventQueue } from '../../src/sim/events.js';
import { PcapPerDeviceSink, PcapWriter, pcapFileName, splitNanos } from '../../src/trace/pcap.js';
import { Tracer } from '../../src/trace/recorder.js';
import { type ByteSink, FileByteSink, fileSinkFactory, MemoryByteSink } from '../../src/trace/sink.js';
import { reply, request } from './frames.js';

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** Reads a classic pcap back, checking the global header on the way. */
function readPcap(b: Uint8Array) {
  const v = view(b);
  const header = {
    magic: v.getUint32(0, true),
    major: v.getUint16(4, true),
    minor: v.getUint16(6, true),
    thiszone: v.getInt32(8, true),
    sigfigs: v.getUint32(12, true),
    snaplen: v.getUint32(16, true),
    linktype: v.getUint32(20, true),
  };
  const records: { sec: number; nsec: number; capLen: number; origLen: number; data: Uint8Array }[] = [];
  let off = 24;
  while (off < b.length) {
    const capLen = v.getUint32(off + 8, true);
    records.push({
      sec: v.getUint32(off, true),
      nsec: v.getUint32(off + 4, true),
      capLen,
      origLen: v.getUint32(off + 12, true),
      data: b.slice(off + 16, off + 16 + capLen),
    });
    off += 16 + capLen;
  }
  expect(off).toBe(b.length);
  return { header, records };
}

class CountingSink implements ByteSink {
  writes: number[] = [];
  closed = 0;
  write(chunk: Uint8Array): void {
    this.writes.push(chunk.length);
  }
  close(): void {
    this.closed++;
  }
}

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'pw-pcap-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('PcapWriter', () => {
  it('writes the nanosecond global header byte for byte', () => {
    const m = new MemoryByteSink();
    new PcapWriter(m).close();
    expect([...m.bytes()]).toEqual([
      0x4d, 0x3c, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x00, 0x04, 0x00, 1, 0, 0, 0,
    ]);
    const { header } = readPcap(m.bytes());
    expect(header).toEqual({
      magic: 0xa1b23c4d,
      major: 2,
      minor: 4,
      thiszone: 0,
      sigfigs: 0,
      snaplen: 262144,
      linktype: 1,
    });
    expect(m.closed).toBe(true);
  });

  it('records seconds and nanoseconds exactly, including fractional seconds', () => {
    const m = new MemoryByteSink();
    const w = new PcapWriter(m);
    const f1 = request(1);
    const f2 = reply(1);
    w.writeFrame(1_500_000_000, f1); // 1.5 s must stay 1.5 s
    w.writeFrame(1_000_000_005, f2);
    w.writeFrame(2 ** 53 - 1, f1);
    w.writeFrame(0, f2);
    w.close();
    const { records } = readPcap(m.bytes());
    expect(records.map((r) => [r.sec, r.nsec])).toEqual([
      [1, 500_000_000],
      [1, 5],
      [9_007_199, 254_740_991],
      [0, 0],
    ]);
    expect(records.map((r) => [r.capLen, r.origLen])).toEqual([
      [98, 98],
      [98, 98],
      [98, 98],
      [98, 98],
    ]);
    expect(records[0]!.data).toEqual(f1);
    expect(records[1]!.data).toEqual(f2);
  });

  it('cuts frames at the snap length and keeps the original length', () => {
    const m = new MemoryByteSink();
    const w = new PcapWriter(m, { snapLen: 64 });
    const f = request(3);
    w.writeFrame(7, f);
    const { header, records } = readPcap(m.bytes());
    expect(header.snaplen).toBe(64);
    expect(records[0]!.capLen).toBe(64);
    expect(records[0]!.origLen).toBe(98);
    expect(records[0]!.data).toEqual(f.subarray(0, 64));
  });

  it('streams: the header at construction, one write per frame, nothing held back', () => {
    const c = new CountingSink();
    const w = new PcapWriter(c);
    expect(c.writes).toEqual([24]);
    w.writeFrame(1, request(1));
    w.writeFrame(2, request(2));
    expect(c.writes).toEqual([24, 16 + 98, 16 + 98]);
    w.close();
    w.close();
    expect(c.closed).toBe(1);
    expect(() => w.writeFrame(3, request(3))).toThrow(/after close/);
  });

  it('copies the frame at write time, so later in-place rewrites (NAT) do not change the capture', () => {
    const m = new MemoryByteSink();
    const w = new PcapWriter(m);
    const f = request(1);
    const before = f.slice();
    w.writeFrame(1, f);
    f[26] = 192; // rewrite the source address after the capture point
    expect(readPcap(m.bytes()).records[0]!.data).toEqual(before);
  });

  it('refuses timestamps a capture cannot hold exactly', () => {
    const w = new PcapWriter(new MemoryByteSink());
    expect(() => w.writeFrame(1.5, request(1))).toThrow(RangeError);
    expect(() => w.writeFrame(-1, request(1))).toThrow(RangeError);
    expect(() => w.writeFrame(2 ** 53, request(1))).toThrow(RangeError);
    expect(() => w.writeFrame(Number.NaN, request(1))).toThrow(RangeError);
    expect(splitNanos(2 ** 53 - 1)).toEqual({ sec: 9_007_199, nsec: 254_740_991 });
  });
});

describe('FileByteSink', () => {
  it('writes as frames come when unbuffered, so the file grows before close', () => {
    const path = join(tempDir(), 'a.pcap');
    const w = new PcapWriter(new FileByteSink(path, 0));
    expect(statSync(path).size).toBe(24);
    w.writeFrame(1, request(1));
    expect(statSync(path).size).toBe(24 + 16 + 98);
    w.close();
    const { records } = readPcap(new Uint8Array(readFileSync(path)));
    expect(records[0]!.data).toEqual(request(1));
  });

  it('holds at most its buffer, flushing when full and on close', () => {
    const path = join(tempDir(), 'b.pcap');
    const sink = new FileByteSink(path, 256);
    const w = new PcapWriter(sink);
    w.writeFrame(1, request(1)); // 24 + 114 = 138 bytes, still buffered
    expect(statSync(path).size).toBe(0);
    w.writeFrame(2, request(2)); // 252 bytes, still fits
    expect(statSync(path).size).toBe(0);
    w.writeFrame(3, request(3)); // would pass 256: the first 252 go out
    expect(statSync(path).size).toBe(252);
    for (let i = 4; i < 50; i++) w.writeFrame(i, request(i));
    expect(statSync(path).size).toBeGreaterThanOrEqual(24 + 48 * 114 - 256);
    w.close();
    const { records } = readPcap(new Uint8Array(readFileSync(path)));
    expect(records.length).toBe(49);
    expect(records.map((r) => r.nsec)).toEqual(Array.from({ length: 49 }, (_, i) => i + 1));
    expect(() => sink.write(new Uint8Array(1))).toThrow(/after close/);
  });
});

describe('PcapPerDeviceSink', () => {
  it('writes one file per (namespace, device), frames of both directions, in order', () => {
    const q = new EventQueue();
    const tr = new Tracer(q);
    const files = new Map<string, MemoryByteSink>();
    const sink = new PcapPerDeviceSink((name) => {
      const m = new MemoryByteSink();
      files.set(name, m);
      return m;
    });
    tr.addSink(sink);
    q.schedule(1000, () => tr.frame('a', 'eth0', request(1), 'tx'));
    q.schedule(2000, () => tr.frame('b', 'eth0', request(1), 'rx'));
    q.schedule(2500, () => tr.frame('b', 'eth0', reply(1), 'tx'));
    q.schedule(3_000_000_001, () => tr.frame('a', 'eth0', reply(1), 'rx'));
    q.run();
    tr.closeSinks();
    expect([...files.keys()]).toEqual(['a_eth0.pcap', 'b_eth0.pcap']);
    expect(sink.files()).toEqual(['a_eth0.pcap', 'b_eth0.pcap']);
    expect([...files.values()].every((m) => m.closed)).toBe(true);
    const a = readPcap(files.get('a_eth0.pcap')!.bytes());
    const b = readPcap(files.get('b_eth0.pcap')!.bytes());
    expect(a.records.map((r) => [r.sec, r.nsec])).toEqual([
      [0, 1000],
      [3, 1],
    ]);
    expect(a.records.map((r) => r.data)).toEqual([request(1), reply(1)]);
    expect(b.records.map((r) => r.nsec)).toEqual([2000, 2500]);
  });

  it('opens real files through the directory factory', () => {
    const dir = tempDir();
    const sink = new PcapPerDeviceSink(fileSinkFactory(join(dir, 'caps')));
    sink.addInterface({ id: 0, ns: 'pod-a', dev: 'eth0', linkType: 1, snapLen: 262144 });
    sink.addInterface({ id: 1, ns: 'node', dev: 'cni0', linkType: 1, snapLen: 262144 });
    sink.frame(0, 5, request(1), 'tx');
    sink.close();
    expect(readPcap(new Uint8Array(readFileSync(join(dir, 'caps', 'pod-a_eth0.pcap')))).records.length).toBe(1);
    expect(() => statSync(join(dir, 'caps', 'node_cni0.pcap'))).toThrow(); // no frame, no file
    expect(() => sink.frame(0, 6, request(2), 'tx')).toThrow(/after close/);
  });

  it('names files safely and refuses two devices that would share a file', () => {
    expect(pcapFileName('a', 'eth0')).toBe('a_eth0.pcap');
    expect(pcapFileName('we ird/ns', 'veth@1')).toBe('we%20ird%2fns_veth@1.pcap');
    const sink = new PcapPerDeviceSink(() => new MemoryByteSink());
    sink.addInterface({ id: 0, ns: 'a_b', dev: 'c', linkType: 1, snapLen: 262144 });
    expect(() => sink.addInterface({ id: 1, ns: 'a', dev: 'b_c', linkType: 1, snapLen: 262144 })).toThrow(
      /a_b_c\.pcap would hold both a_b\/c and a\/b_c/,
    );
    expect(() => sink.frame(9, 1, request(1), 'tx')).toThrow(/unknown interface 9/);
  });
});
