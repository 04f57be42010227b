// Cross-checks the capture writers against Wireshark's own reader: timestamps to the nanosecond, frame bytes,
// checksums verified by the dissectors, interface names and directions in pcapng. Skipped when tshark is absent.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PcapWriter } from '../../src/trace/pcap.js';
import { PcapngWriter } from '../../src/trace/pcapng.js';
import { FileByteSink } from '../../src/trace/sink.js';
import { hex, reply, request } from './frames.js';

const has = (tool: string) => spawnSync(tool, ['--version'], { encoding: 'utf8' }).status === 0;
const haveTshark = has('tshark');
const haveCapinfos = has('capinfos');
if (!haveTshark) console.warn('test/trace/tshark.test.ts: tshark is not on PATH; skipping the Wireshark cross-checks');

function run(tool: string, args: string[]) {
  const r = spawnSync(tool, args, { encoding: 'utf8', timeout: 30_000 });
  // tshark warns about running as root on stderr; anything else there is a complaint about the file.
  const stderr = r.stderr
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.includes('Running as user "root"'))
    .join('\n');
  return { status: r.status, stdout: r.stdout, stderr };
}

const fields = (file: string, names: string[]) => {
  const r = run('tshark', [
    '-r',
    file,
    '-o',
    'ip.check_checksum:TRUE',
    '-T',
    'fields',
    ...names.flatMap((n) => ['-e', n]),
  ]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout
    .trimEnd()
    .split('\n')
    .map((l) => l.split('\t'));
};

const rawFrames = (file: string): string[] => {
  const r = run('tshark', ['-r', file, '-T', 'json', '-x']);
  expect(r.status).toBe(0);
  const pkts = JSON.parse(r.stdout) as { _source: { layers: { frame_raw: [string, ...unknown[]] } } }[];
  return pkts.map((p) => p._source.layers.frame_raw[0]);
};

/** No expert error or warning (malformed packets, bad checksums) and a clean read. */
const expectClean = (file: string) => {
  const r = run('tshark', ['-r', file, '-o', 'ip.check_checksum:TRUE', '-q', '-z', 'expert,warn']);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).not.toMatch(/Errors|Warns|Malformed/);
};

const dir = mkdtempSync(join(tmpdir(), 'pw-tshark-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// 1.5 s exactly (the value a microsecond-only writer mangles), an odd nanosecond, and a time past 2^32 ns.
const T = [1_500_000_000, 1_500_002_001, 2 ** 40 + 7];
const EPOCH = ['1.500000000', '1.500002001', '1099.511627783'];

describe.skipIf(!haveTshark)('captures read back by tshark', () => {
  it('classic pcap: nanosecond timestamps, addresses, lengths, good checksums, exact bytes', () => {
    const file = join(dir, 'ping.pcap');
    const w = new PcapWriter(new FileByteSink(file));
    const frames = [request(1), reply(1), request(2)];
    for (const [i, f] of frames.entries()) w.writeFrame(T[i]!, f);
    w.close();
    const rows = fields(file, [
      'frame.time_epoch',
      'eth.src',
      'eth.dst',
      'ip.src',
      'ip.dst',
      'icmp.type',
      'icmp.seq',
      'frame.len',
      'frame.cap_len',
      'ip.checksum.status',
      'icmp.checksum.status',
    ]);
    expect(rows).toEqual([
      [EPOCH[0], '02:00:00:00:00:0a', '02:00:00:00:00:0b', '10.0.0.1', '10.0.0.2', '8', '1', '98', '98', '1', '1'],
      [EPOCH[1], '02:00:00:00:00:0b', '02:00:00:00:00:0a', '10.0.0.2', '10.0.0.1', '0', '1', '98', '98', '1', '1'],
      [EPOCH[2], '02:00:00:00:00:0a', '02:00:00:00:00:0b', '10.0.0.1', '10.0.0.2', '8', '2', '98', '98', '1', '1'],
    ]);
    expect(rawFrames(file)).toEqual(frames.map(hex));
    expectClean(file);
  });

  it.skipIf(!haveCapinfos)('capinfos sees a nanosecond pcap of Ethernet frames', () => {
    const file = join(dir, 'ping.pcap');
    const r = run('capinfos', ['-t', '-E', '-c', '-a', '-e', '-S', '-T', '-r', file]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const line = r.stdout.trim().split('\t');
    expect(line.slice(1, 4)).toEqual(['nsecpcap', 'ether', '3']);
    expect(line[4]).toMatch(/^1\.500000000/);
    expect(line[5]).toMatch(/^1099\.511627783/);
  });

  it('pcapng: per-frame interface names, directions and nanosecond timestamps', () => {
    const file = join(dir, 'ping.pcapng');
    const w = new PcapngWriter(new FileByteSink(file));
    w.addInterface({ id: 0, ns: 'a', dev: 'eth0', linkType: 1, snapLen: 262144 });
    w.addInterface({ id: 1, ns: 'b', dev: 'eth0', linkType: 1, snapLen: 262144 });
    w.frame(0, T[0]!, request(1), 'tx');
    w.frame(1, T[0]! + 1000, request(1), 'rx');
    w.frame(1, T[1]!, reply(1), 'tx');
    w.frame(0, T[2]!, reply(1), 'rx');
    w.close();
    const rows = fields(file, [
      'frame.time_epoch',
      'frame.interface_id',
      'frame.interface_name',
      'frame.packet_flags_direction',
      'icmp.type',
      'icmp.checksum.status',
    ]);
    expect(rows).toEqual([
      [EPOCH[0], '0', 'a/eth0', '0x00000002', '8', '1'],
      ['1.500001000', '1', 'b/eth0', '0x00000001', '8', '1'],
      [EPOCH[1], '1', 'b/eth0', '0x00000002', '0', '1'],
      [EPOCH[2], '0', 'a/eth0', '0x00000001', '0', '1'],
    ]);
    expect(rawFrames(file)).toEqual([request(1), request(1), reply(1), reply(1)].map(hex));
    expectClean(file);
    if (haveCapinfos) {
      const r = run('capinfos', ['-t', '-I', file]);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/pcapng/);
      expect(r.stdout).toMatch(/Number of interfaces in file: 2/);
      expect(r.stdout.match(/Time precision = nanoseconds \(9\)/g)?.length).toBe(2);
    }
  });

  it('the checks above do catch a damaged file', () => {
    const good = readFileSync(join(dir, 'ping.pcap'));
    const cut = join(dir, 'cut.pcap');
    writeFileSync(cut, good.subarray(0, good.length - 3));
    const r = run('tshark', ['-r', cut, '-T', 'fields', '-e', 'frame.number']);
    expect(r.status !== 0 || r.stderr !== '').toBe(true);
    const bad = Buffer.from(good);
    bad[24 + 16 + 14 + 10] ^= 0xff; // corrupt the first IPv4 header checksum
    const badFile = join(dir, 'badsum.pcap');
    writeFileSync(badFile, bad);
    const rows = run('tshark', [
      '-r',
      badFile,
      '-o',
      'ip.check_checksum:TRUE',
      '-T',
      'fields',
      '-e',
      'ip.checksum.status',
    ]);
    expect(rows.stdout.split('\n')[0]).toBe('0');
    expect(() => expectClean(badFile)).toThrow();
  });
});
