// A tcpdump capture inside one lab namespace, for the length of one step: `-i any` (every interface of that
// namespace, loopback included), capture filter `ip` (IPv4 only; ARP and IPv6 neighbour traffic stay out),
// `--immediate-mode -U` so nothing sits in a buffer when the step ends. Traffic must not start before tcpdump
// says "listening on": packets sent earlier are not captured. tcpdump is stopped with SIGINT, which makes it
// flush and close the file. Interface indexes in the SLL2 headers are turned into names with the namespace's
// own `ip -j link` table, read while the namespace exists.

import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { runOk } from './exec.js';
import { type DecodedIp, decodeIpv4 } from './packet.js';
import { PACKET_OUTGOING, readPcap } from './pcap.js';

export interface CapturedPacket {
  dir: 'in' | 'out';
  dev: string;
  tsUs: number;
  ip: DecodedIp;
}

const START_MS = 5_000;
const STOP_MS = 3_000;

async function interfaceNames(ns: string, signal: AbortSignal): Promise<Map<number, string>> {
  const r = await runOk('ip', ['-n', ns, '-j', 'link', 'show'], { signal, timeoutMs: 10_000 });
  const names = new Map<number, string>();
  const parsed: unknown = JSON.parse(r.stdout);
  if (Array.isArray(parsed)) {
    for (const l of parsed as { ifindex?: unknown; ifname?: unknown }[]) {
      if (typeof l.ifindex === 'number' && typeof l.ifname === 'string') names.set(l.ifindex, l.ifname);
    }
  }
  return names;
}

export class Capture {
  private constructor(
    private readonly child: ChildProcess,
    private readonly file: string,
    private readonly ifnames: Map<number, string>,
    private readonly detach: () => void,
  ) {}

  /** Starts tcpdump in `ns` writing to `file`; resolves once it is listening. */
  static async start(
    ns: string,
    file: string,
    signal: AbortSignal,
    track: (c: ChildProcess) => void,
  ): Promise<Capture> {
    const ifnames = await interfaceNames(ns, signal);
    const args = ['netns', 'exec', ns, 'tcpdump', '-n', '-i', 'any', '-U', '--immediate-mode', '-Z', 'root'];
    const child = spawn('ip', [...args, '-w', file, 'ip'], { stdio: ['ignore', 'ignore', 'pipe'] });
    track(child);
    let stderr = '';
    const onAbort = () => child.kill('SIGKILL');
    signal.addEventListener('abort', onAbort, { once: true });
    const detach = () => signal.removeEventListener('abort', onAbort);
    await new Promise<void>((resolve, reject) => {
      const fail = (why: string) => {
        clearTimeout(timer);
        detach();
        child.kill('SIGKILL');
        reject(new Error(`kernel-lab: tcpdump in ${ns} did not start: ${why}${stderr ? `: ${stderr.trim()}` : ''}`));
      };
      const timer = setTimeout(() => fail(`no "listening on" within ${START_MS} ms`), START_MS);
      child.stderr!.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
        if (stderr.includes('listening on')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.on('error', (e) => fail(e.message));
      child.on('exit', (code) => fail(`exited with ${code}`));
      if (signal.aborted) fail('run aborted');
    });
    child.removeAllListeners('exit');
    return new Capture(child, file, ifnames, detach);
  }

  /** Stops tcpdump and returns the IPv4 packets it saw, in capture order. */
  async stop(): Promise<CapturedPacket[]> {
    this.detach();
    const child = this.child;
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          resolve();
        }, STOP_MS);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGINT');
      });
    }
    const frames = readPcap(new Uint8Array(await readFile(this.file)));
    const out: CapturedPacket[] = [];
    for (const f of frames) {
      if (f.protocol !== 0x0800) continue;
      const ip = decodeIpv4(f.payload);
      if (!ip) continue;
      out.push({
        dir: f.pktType === PACKET_OUTGOING ? 'out' : 'in',
        dev: this.ifnames.get(f.ifindex) ?? `if${f.ifindex}`,
        tsUs: f.tsUs,
        ip,
      });
    }
    return out;
  }
}
