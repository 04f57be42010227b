// Frames seen on an underlay link, reduced to what the emulator and Linux must agree on when a VXLAN overlay
// crosses it: for each VXLAN packet (IPv4/UDP to the tunnel's port) the outer IPv4 header (addresses, total
// length, TTL, DF, fragment offset/MF, protocol), UDP (destination port, length, checksum present and valid), the
// VXLAN header (flags byte, VNI, reserved bits zero) and the inner frame (its length and MAC addresses; for IPv4
// addresses, protocol, total length, TTL, DF, fragment offset/MF); every other IPv4 packet by its header alone.
// The outer MAC addresses are not kept: the nodes' eth0 MACs are random on both sides. ARP, IPv6 and IPv4
// link-local multicast (IGMP, 224.0.0.0/24) are left out: neighbour and multicast upkeep follows timers that a
// short step does not line up between the two. The UDP source port is kept apart (`sport`): its value comes from a
// per-boot hash seed, so only which packets share a port is comparable (`portPattern`).
// Also: a capture sink that keeps the emulator's frames on one device, per step.

import type { Nanos } from '../../src/sim/events.js';
import type { CaptureIface, CaptureSink } from '../../src/trace/recorder.js';
import { formatIpv4, formatMac, readMac, readU16, readU32 } from '../../src/wire/addr.js';
import { udpChecksumOk } from '../../src/wire/udp.js';

export interface IpFields {
  src: string;
  dst: string;
  proto: number;
  len: number;
  ttl: number;
  df: boolean;
  mf: boolean;
  /** Fragment offset in bytes. */
  fragOffset: number;
}

export interface VxlanFields {
  outer: IpFields;
  udpDport: number;
  udpLen: number;
  udpChecksum: 'valid' | 'absent' | 'bad';
  vxlanFlags: number;
  vni: number;
  vxlanReservedZero: boolean;
  innerFrameLen: number;
  /** The inner Ethernet addresses: the VTEPs' MACs (flannel.1's own and the remote's from the neighbour entry). */
  innerSrcMac: string;
  innerDstMac: string;
  /** The inner packet, when the inner frame is IPv4. */
  inner?: IpFields;
}

export type UnderlayPacket = { kind: 'vxlan'; fields: VxlanFields; sport: number } | { kind: 'ip'; fields: IpFields };

const ETH_HLEN = 14;

function ipFields(b: Uint8Array, o: number): IpFields | null {
  if (b.length < o + 20 || b[o]! >> 4 !== 4) return null;
  const frag = readU16(b, o + 6);
  return {
    src: formatIpv4(readU32(b, o + 12)),
    dst: formatIpv4(readU32(b, o + 16)),
    proto: b[o + 9]!,
    len: readU16(b, o + 2),
    ttl: b[o + 8]!,
    df: (frag & 0x4000) !== 0,
    mf: (frag & 0x2000) !== 0,
    fragOffset: (frag & 0x1fff) * 8,
  };
}

/** One Ethernet frame, or null when it is not an IPv4 packet the comparison looks at. */
export function decodeUnderlayFrame(b: Uint8Array, vxlanPort: number): UnderlayPacket | null {
  if (b.length < ETH_HLEN || readU16(b, 12) !== 0x0800) return null;
  const outer = ipFields(b, ETH_HLEN);
  if (!outer) return null;
  if (outer.dst.startsWith('224.0.0.')) return null;
  const ihl = (b[ETH_HLEN]! & 0x0f) * 4;
  const u = ETH_HLEN + ihl;
  const fragment = outer.mf || outer.fragOffset > 0;
  if (outer.proto !== 17 || fragment || b.length < u + 16 || readU16(b, u + 2) !== vxlanPort) {
    return { kind: 'ip', fields: outer };
  }
  const udpLen = readU16(b, u + 4);
  const src = readU32(b, ETH_HLEN + 12);
  const dst = readU32(b, ETH_HLEN + 16);
  const udpChecksum = readU16(b, u + 6) === 0 ? 'absent' : udpChecksumOk(b, u, src, dst) ? 'valid' : 'bad';
  const x = u + 8;
  const inner = x + 8;
  const innerFrameLen = udpLen - 16;
  const innerIp =
    innerFrameLen >= ETH_HLEN + 20 && readU16(b, inner + 12) === 0x0800 ? ipFields(b, inner + ETH_HLEN) : null;
  return {
    kind: 'vxlan',
    sport: readU16(b, u),
    fields: {
      outer,
      udpDport: readU16(b, u + 2),
      udpLen,
      udpChecksum,
      vxlanFlags: b[x]!,
      vni: readU32(b, x + 4) >>> 8,
      vxlanReservedZero: b[x + 1] === 0 && b[x + 2] === 0 && b[x + 3] === 0 && b[x + 7] === 0,
      innerFrameLen,
      innerSrcMac: formatMac(readMac(b, inner + 6)),
      innerDstMac: formatMac(readMac(b, inner)),
      ...(innerIp ? { inner: innerIp } : {}),
    },
  };
}

/** What one step put on the link, arranged so that only timing-independent facts are compared. */
export interface UnderlayView {
  /** VXLAN packets by outer source address, each sender's in the order it sent them. */
  vxlan: Record<string, VxlanFields[]>;
  /** Other IPv4 packets by source address, in order. */
  plain: Record<string, IpFields[]>;
  /** The senders in capture order; only when `interleaving` is asked for (a strictly causal exchange). */
  order?: string[];
  /** Every VXLAN source port inside ip_local_port_range (32768–60999). */
  portsInRange: boolean;
  /**
   * Which VXLAN packets share a source port: senders in address order, each sender's packets in order, each
   * labelled with the index of the first distinct port (same label ⇔ same port).
   */
  portPattern: number[];
}

export function underlayView(frames: readonly Uint8Array[], vxlanPort: number, interleaving: boolean): UnderlayView {
  const vxlan: Record<string, VxlanFields[]> = {};
  const plain: Record<string, IpFields[]> = {};
  const sports: Record<string, number[]> = {};
  const order: string[] = [];
  const push = <T>(m: Record<string, T[]>, key: string, v: T) => {
    const list = m[key] ?? [];
    list.push(v);
    m[key] = list;
  };
  for (const f of frames) {
    const p = decodeUnderlayFrame(f, vxlanPort);
    if (!p) continue;
    if (p.kind === 'vxlan') {
      const s = p.fields.outer.src;
      push(vxlan, s, p.fields);
      push(sports, s, p.sport);
      order.push(`${s} vxlan`);
    } else {
      push(plain, p.fields.src, p.fields);
      order.push(`${p.fields.src} ip`);
    }
  }
  const all = Object.keys(sports)
    .sort()
    .flatMap((s) => sports[s]!);
  const seen: number[] = [];
  const portPattern = all.map((port) => {
    if (!seen.includes(port)) seen.push(port);
    return seen.indexOf(port);
  });
  return {
    vxlan,
    plain,
    ...(interleaving ? { order } : {}),
    portsInRange: all.every((p) => p >= 32768 && p <= 60999),
    portPattern,
  };
}

/** Keeps the emulator's frames on one device (both directions, as tcpdump on it would), by step. */
export class StepFrameSink implements CaptureSink {
  /** The step frames are filed under now; -1 during set-up. */
  step = -1;
  private readonly byStep = new Map<number, { t: Nanos; bytes: Uint8Array }[]>();
  private id: number | undefined;

  constructor(
    readonly ns: string,
    readonly dev: string,
  ) {}

  addInterface(iface: CaptureIface): void {
    if (iface.ns === this.ns && iface.dev === this.dev) this.id = iface.id;
  }

  frame(ifaceId: number, t: Nanos, data: Uint8Array, _dir: 'rx' | 'tx'): void {
    if (ifaceId !== this.id) return;
    const list = this.byStep.get(this.step) ?? [];
    list.push({ t, bytes: data.slice() });
    this.byStep.set(this.step, list);
  }

  close(): void {}

  frames(step: number): Uint8Array[] {
    return (this.byStep.get(step) ?? []).map((f) => f.bytes);
  }
}
