// Wireshark's view of every bundled scenario's capture: no malformed packets, no bad IPv4/ICMP/UDP/TCP checksums,
// and every IPv4 packet's checksums verified good — read with the decode-as option podwire tells users about
// (`-d udp.port==8472,vxlan`: Wireshark decodes only 4789 as VXLAN by itself), so inside VXLAN the inner packets'
// checksums are verified too, and every packet on UDP 8472 must decode down to the inner IPv4 packet. Skipped with a
// message when tshark is not installed.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/scenario/loader.js';
import { runScenario } from '../../src/scenario/runner.js';
import { PcapngWriter } from '../../src/trace/pcapng.js';
import { MemoryByteSink } from '../../src/trace/sink.js';

function haveTshark(): boolean {
  try {
    execFileSync('tshark', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const available = haveTshark();
if (!available) console.warn('tshark not installed: skipping capture checks (apt-get install tshark)');

const dir = join(import.meta.dirname, '../../scenarios');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const tmp = mkdtempSync(join(tmpdir(), 'podwire-tshark-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const CHECKS = [
  '-o',
  'ip.check_checksum:TRUE',
  '-o',
  'tcp.check_checksum:TRUE',
  '-o',
  'udp.check_checksum:TRUE',
  '-d',
  'udp.port==8472,vxlan',
];

function tshark(args: string[]): string {
  return execFileSync('tshark', ['-n', ...CHECKS, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

describe.skipIf(!available)('captures read by tshark', () => {
  for (const file of files) {
    it(file, () => {
      const mem = new MemoryByteSink();
      runScenario(loadScenario(join(dir, file)), { sinks: [new PcapngWriter(mem)] });
      const path = join(tmp, `${file}.pcapng`);
      writeFileSync(path, mem.bytes());
      const bad = tshark([
        '-r',
        path,
        '-Y',
        '_ws.malformed || _ws.expert.severity >= error || ip.checksum.status == 0 || icmp.checksum.status == 0 || udp.checksum.status == 0 || tcp.checksum.status == 0',
      ]);
      expect(bad).toBe('');
      const rows = tshark([
        '-r',
        path,
        '-Y',
        'ip',
        '-T',
        'fields',
        '-e',
        'ip.checksum.status',
        '-e',
        'icmp.checksum.status',
        '-e',
        'udp.checksum.status',
        '-e',
        'tcp.checksum.status',
      ])
        .trim()
        .split('\n')
        .filter(Boolean);
      expect(rows.length).toBeGreaterThan(0);
      // Every VXLAN packet carries an Ethernet frame with an IPv4 packet (ICMP, UDP or TCP) inside.
      const tunnelled = tshark(['-r', path, '-Y', 'udp.port == 8472', '-T', 'fields', '-e', 'frame.number']).trim();
      const undecoded = tshark(['-r', path, '-Y', 'udp.port == 8472 && !(vxlan.vni && count(ip.proto) >= 2)']);
      expect(undecoded).toBe('');
      if (file.startsWith('flannel-vxlan')) {
        expect(tunnelled.length, 'VXLAN packets on the underlay').toBeGreaterThan(0);
        const innerTcp = tshark(['-r', path, '-Y', 'vxlan && tcp', '-T', 'fields', '-e', 'tcp.srcport']).trim();
        expect(innerTcp.length, 'TCP inside VXLAN').toBeGreaterThan(0);
      }
      for (const r of rows) {
        // The outer header's status must be good (1). ICMP errors quote a packet whose checksums tshark reports as
        // second values: those must never be bad (0); tshark leaves a quoted ICMP checksum unverified (2).
        for (const field of r.split('\t').filter(Boolean)) {
          const [outer, ...inner] = field.split(',');
          expect(outer).toBe('1');
          for (const v of inner) expect(v).not.toBe('0');
        }
      }
    });
  }
});
