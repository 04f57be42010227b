// Minimal pcap (libpcap classic format, Ethernet link type) writer and tcpdump runner for tests that compare
// describeFrame with the real tool.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function pcapBytes(frames: Uint8Array[]): Uint8Array {
  const size = 24 + frames.reduce((n, f) => n + 16 + f.length, 0);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setUint32(0, 0xa1b2c3d4, true);
  v.setUint16(4, 2, true);
  v.setUint16(6, 4, true);
  v.setUint32(16, 262144, true);
  v.setUint32(20, 1, true);
  let at = 24;
  for (const [i, f] of frames.entries()) {
    v.setUint32(at, i, true);
    v.setUint32(at + 8, f.length, true);
    v.setUint32(at + 12, f.length, true);
    out.set(f, at + 16);
    at += 16 + f.length;
  }
  return out;
}

export function hasTcpdump(): boolean {
  try {
    execFileSync('tcpdump', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** tcpdump -n -t -S output, one string per frame (continuation lines joined with "\n"). */
export function tcpdumpLines(frames: Uint8Array[], extra: string[] = []): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'pw-wire-'));
  try {
    const file = join(dir, 'frames.pcap');
    writeFileSync(file, pcapBytes(frames));
    const text = execFileSync('tcpdump', ['-n', '-t', '-S', '-#', '-r', file, ...extra], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      maxBuffer: 64 * 1024 * 1024,
    });
    const lines: string[] = [];
    for (const line of text.split('\n')) {
      const m = /^ *(\d+) {2}(.*)$/.exec(line);
      if (m && Number(m[1]) === lines.length + 1) lines.push(m[2]!);
      else if (line !== '' && lines.length > 0) lines[lines.length - 1] += `\n${line}`;
    }
    return lines;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
