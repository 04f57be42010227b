// tcpdump captures inside one lab namespace, for the length of one step. The step's own capture (`Capture`) is
// `-i any` (every interface of that namespace, loopback included) with capture filter `ip` (IPv4 only; ARP and
// IPv6 neighbour traffic stay out); a capture point the caller adds (`DeviceCapture`) is one device, unfiltered,
// with link type EN10MB forced, so a bridge port or veth gives whole Ethernet frames (outer headers of an
// encapsulated packet intact) instead of SLL2's cooked header. Both run with `--immediate-mode -U` so nothing sits
// in a buffer when the step ends. Traffic must not start before tcpdump says "listening on": packets sent earlier
// are not captured. tcpdump is stopped with SIGINT, which makes it flush and close the file. Interface indexes in
// the SLL2 headers are turned into names with the namespace's own `ip -j link` table, read while the namespace
// exists.

import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { runOk } from './exec.js';
import { type DecodedIp, decodeIpv4 } from './packet.js';
import { LINKTYPE_ETHERNET, PACKET_OUTGOING, type PcapRecord, readPcap, readPcapRecords } from './pcap.js';

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

/** One running tcpdump writing a pcap file. */
class Tcpdump {
  private constructor(
    private readonly child: ChildProcess,
    private readonly file: string,
    private readonly detach: () => void,
  ) {}

  /** Starts tcpdump in `ns` with `args` (interface, link type) and `filter`; resolves once it is listening. */
  static async start(
    ns: string,
    file: string,
    args: string[],
    filter: string[],
    signal: AbortSignal,
    track: (c: ChildProcess) => void,
  ): Promise<Tcpdump> {
    const argv = ['netns', 'exec', ns, 'tcpdump', '-n', ...args, '-U', '--immediate-mode', '-Z', 'root'];
    const child = spawn('ip', [...argv, '-w', file, ...filter], { stdio: ['ignore', 'ignore', 'pipe'] });
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
    return new Tcpdump(child, file, detach);
  }

  /** Stops tcpdump and returns the file it wrote. */
  async stop(): Promise<Uint8Array> {
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
    return new Uint8Array(await readFile(this.file));
  }
}

export class Capture {
  private constructor(
    private readonly tcpdump: Tcpdump,
    private readonly ifnames: Map<number, string>,
  ) {}

  /** Starts tcpdump on every interface of `ns` writing to `file`; resolves once it is listening. */
  static async start(
    ns: string,
    file: string,
    signal: AbortSignal,
    track: (c: ChildProcess) => void,
  ): Promise<Capture> {
    const ifnames = await interfaceNames(ns, signal);
    return new Capture(await Tcpdump.start(ns, file, ['-i', 'any'], ['ip'], signal, track), ifnames);
  }

  /** Stops tcpdump and returns the IPv4 packets it saw, in capture order. */
  async stop(): Promise<CapturedPacket[]> {
    const frames = readPcap(await this.tcpdump.stop());
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

/** Every frame on one Ethernet device of a namespace, both directions, as it was on the wire. */
export class DeviceCapture {
  private constructor(
    private readonly tcpdump: Tcpdump,
    private readonly what: string,
  ) {}

  static async start(
    ns: string,
    dev: string,
    file: string,
    signal: AbortSignal,
    track: (c: ChildProcess) => void,
  ): Promise<DeviceCapture> {
    const t = await Tcpdump.start(ns, file, ['-i', dev, '-y', 'EN10MB'], [], signal, track);
    return new DeviceCapture(t, `${dev} in ${ns}`);
  }

  /** Stops tcpdump and returns the frames, in capture order. */
  async stop(): Promise<PcapRecord[]> {
    const { linktype, records } = readPcapRecords(await this.tcpdump.stop());
    if (linktype !== LINKTYPE_ETHERNET) {
      throw new Error(`kernel-lab: capture on ${this.what} has link type ${linktype}, not Ethernet`);
    }
    return records;
  }
}
