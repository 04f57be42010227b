// Reads the classic pcap files tcpdump writes (`-w`), in either byte order and with micro- or nanosecond
// timestamps: as whole link-layer records (`readPcapRecords`, what a capture on one device returns), or with the
// link-layer header stripped (`readPcap`) for the link types a lab capture produces: LINUX_SLL2 (276, what
// `tcpdump -i any` writes since libpcap 1.10: it carries the interface index and the packet type), LINUX_SLL
// (113, older libpcap; no interface index) and Ethernet (1). Interface names are not resolved here: the index is
// only meaningful in the namespace that captured, and tcpdump -r run elsewhere would resolve it wrongly.
// Known limits: no pcapng, no 802.1Q tags under SLL.

export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_LINUX_SLL2 = 276;

/** Linux `PACKET_*` types as SLL headers carry them. */
export const PACKET_HOST = 0;
export const PACKET_BROADCAST = 1;
export const PACKET_MULTICAST = 2;
export const PACKET_OTHERHOST = 3;
export const PACKET_OUTGOING = 4;

export interface PcapFrame {
  /** Capture time, microseconds since the epoch. */
  tsUs: number;
  /** Interface index in the capturing namespace; 0 when the link type does not carry it. */
  ifindex: number;
  /** PACKET_* type; PACKET_HOST when the link type does not carry it. */
  pktType: number;
  /** EtherType of the payload (0x0800 for IPv4). */
  protocol: number;
  /** The network-layer bytes. */
  payload: Uint8Array;
}

/** One record as captured: the link-layer header still on. */
export interface PcapRecord {
  /** Capture time, microseconds since the epoch. */
  tsUs: number;
  data: Uint8Array;
}

export class PcapFormatError extends Error {}

/** The file's link type and every complete record, in file order. */
export function readPcapRecords(buf: Uint8Array): { linktype: number; records: PcapRecord[] } {
  if (buf.length < 24) throw new PcapFormatError('pcap: file shorter than its global header');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magicLe = dv.getUint32(0, true);
  let le: boolean;
  let nanos: boolean;
  if (magicLe === 0xa1b2c3d4 || magicLe === 0xa1b23c4d) {
    le = true;
    nanos = magicLe === 0xa1b23c4d;
  } else {
    const magicBe = dv.getUint32(0, false);
    if (magicBe !== 0xa1b2c3d4 && magicBe !== 0xa1b23c4d) {
      throw new PcapFormatError(`pcap: unknown magic 0x${magicLe.toString(16)} (pcapng is not supported)`);
    }
    le = false;
    nanos = magicBe === 0xa1b23c4d;
  }
  const linktype = dv.getUint32(20, le) & 0x0fffffff;
  const records: PcapRecord[] = [];
  let off = 24;
  while (off + 16 <= buf.length) {
    const sec = dv.getUint32(off, le);
    const frac = dv.getUint32(off + 4, le);
    const caplen = dv.getUint32(off + 8, le);
    off += 16;
    if (off + caplen > buf.length) break; // a capture killed mid-write ends in a partial record
    const data = buf.subarray(off, off + caplen);
    off += caplen;
    records.push({ tsUs: sec * 1e6 + (nanos ? Math.floor(frac / 1000) : frac), data });
  }
  return { linktype, records };
}

export function readPcap(buf: Uint8Array): PcapFrame[] {
  const { linktype, records } = readPcapRecords(buf);
  const frames: PcapFrame[] = [];
  for (const r of records) {
    const f = stripLinkLayer(linktype, r.data, r.tsUs);
    if (f) frames.push(f);
  }
  return frames;
}

function u16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

function stripLinkLayer(linktype: number, d: Uint8Array, tsUs: number): PcapFrame | null {
  switch (linktype) {
    case LINKTYPE_LINUX_SLL2: {
      if (d.length < 20) return null;
      const ifindex = ((d[4]! << 24) | (d[5]! << 16) | (d[6]! << 8) | d[7]!) >>> 0;
      return { tsUs, ifindex, pktType: d[10]!, protocol: u16(d, 0), payload: d.subarray(20) };
    }
    case LINKTYPE_LINUX_SLL: {
      if (d.length < 16) return null;
      return { tsUs, ifindex: 0, pktType: u16(d, 0), protocol: u16(d, 14), payload: d.subarray(16) };
    }
    case LINKTYPE_ETHERNET: {
      if (d.length < 14) return null;
      return { tsUs, ifindex: 0, pktType: PACKET_HOST, protocol: u16(d, 12), payload: d.subarray(14) };
    }
    default:
      throw new PcapFormatError(`pcap: link type ${linktype} is not supported`);
  }
}
