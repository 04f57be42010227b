// Classic libpcap files, nanosecond flavour: the file `tcpdump -w --time-stamp-precision=nano` writes. Global
// header with magic 0xa1b23c4d (so readers take the second field of each record as nanoseconds), version 2.4,
// thiszone 0, sigfigs 0, snaplen 262144 and LINKTYPE_ETHERNET (1); then one 16-byte record header per frame.
// Everything is little-endian, as on the hosts tcpdump usually runs on; readers detect the order from the magic.
// Timestamps are the simulator's virtual nanoseconds counted from the epoch (a run starting at t=0 reads as
// 1970-01-01 in Wireshark). Limits: one link type per file and no direction flag (classic pcap has neither),
// so `PcapPerDeviceSink` writes one file per device, as `tcpdump -i dev -w` would.

import type { Nanos } from '../sim/events.js';
import type { CaptureIface, CaptureSink } from './recorder.js';
import type { ByteSink } from './sink.js';

export const PCAP_MAGIC_NS = 0xa1b23c4d;
export const LINKTYPE_ETHERNET = 1;
export const DEFAULT_SNAPLEN = 262144;
const NS_PER_S = 1_000_000_000;

/** Splits virtual time into (seconds, nanoseconds), refusing values a capture cannot hold exactly. */
export function splitNanos(t: Nanos): { sec: number; nsec: number } {
  if (!Number.isSafeInteger(t) || t < 0) throw new RangeError(`capture timestamp must be whole nanoseconds >= 0: ${t}`);
  // 2^53 ns is about 9.0e6 s, far inside the unsigned 32-bit seconds field.
  const sec = Math.floor(t / NS_PER_S);
  return { sec, nsec: t - sec * NS_PER_S };
}

export interface PcapOptions {
  linkType?: number;
  snapLen?: number;
}

export class PcapWriter {
  readonly linkType: number;
  readonly snapLen: number;
  private closed = false;

  constructor(
    private readonly out: ByteSink,
    opts: PcapOptions = {},
  ) {
    this.linkType = opts.linkType ?? LINKTYPE_ETHERNET;
    this.snapLen = opts.snapLen ?? DEFAULT_SNAPLEN;
    const h = new Uint8Array(24);
    const v = new DataView(h.buffer);
    v.setUint32(0, PCAP_MAGIC_NS, true);
    v.setUint16(4, 2, true);
    v.setUint16(6, 4, true);
    v.setInt32(8, 0, true);
    v.setUint32(12, 0, true);
    v.setUint32(16, this.snapLen, true);
    v.setUint32(20, this.linkType, true);
    out.write(h);
  }

  /** Writes one frame now; bytes past the snap length are cut, the original length is kept in the header. */
  writeFrame(t: Nanos, data: Uint8Array): void {
    if (this.closed) throw new Error('pcap: frame after close');
    const { sec, nsec } = splitNanos(t);
    const capLen = Math.min(data.length, this.snapLen);
    const rec = new Uint8Array(16 + capLen);
    const v = new DataView(rec.buffer);
    v.setUint32(0, sec, true);
    v.setUint32(4, nsec, true);
    v.setUint32(8, capLen, true);
    v.setUint32(12, data.length, true);
    rec.set(data.subarray(0, capLen), 16);
    this.out.write(rec);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.out.close();
  }
}

/** `<ns>_<dev>.pcap`, with characters unsafe in file names percent-encoded. */
export function pcapFileName(ns: string, dev: string): string {
  const safe = (s: string) =>
    s.replace(/[^A-Za-z0-9._@+-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return `${safe(ns)}_${safe(dev)}.pcap`;
}

/**
 * One classic pcap file per (namespace, device), opened when the device's first frame arrives. Both directions go
 * to the same file, as with tcpdump on that device.
 */
export class PcapPerDeviceSink implements CaptureSink {
  private readonly ifaces = new Map<number, CaptureIface>();
  private readonly writers = new Map<number, PcapWriter>();
  private readonly names = new Map<string, string>();
  private readonly opened: string[] = [];
  private closed = false;

  constructor(private readonly open: (fileName: string) => ByteSink) {}

  addInterface(iface: CaptureIface): void {
    const name = pcapFileName(iface.ns, iface.dev);
    const owner = this.names.get(name);
    const who = `${iface.ns}/${iface.dev}`;
    if (owner !== undefined && owner !== who)
      throw new Error(`capture file ${name} would hold both ${owner} and ${who}`);
    this.names.set(name, who);
    this.ifaces.set(iface.id, iface);
  }

  frame(ifaceId: number, t: Nanos, data: Uint8Array, _dir: 'rx' | 'tx'): void {
    if (this.closed) throw new Error('pcap: frame after close');
    let w = this.writers.get(ifaceId);
    if (!w) {
      const iface = this.ifaces.get(ifaceId);
      if (!iface) throw new Error(`pcap: frame for unknown interface ${ifaceId}`);
      const name = pcapFileName(iface.ns, iface.dev);
      this.opened.push(name);
      w = new PcapWriter(this.open(name), {
        linkType: iface.linkType,
        snapLen: iface.snapLen,
      });
      this.writers.set(ifaceId, w);
    }
    w.writeFrame(t, data);
  }

  /** File names opened so far, in the order their first frame arrived. */
  files(): string[] {
    return [...this.opened];
  }

  close(): void {
    this.closed = true;
    for (const w of this.writers.values()) w.close();
    this.writers.clear();
  }
}
