// Decodes the IPv4 packets of a lab capture far enough to judge a step: addresses, TTL, length, and the ICMP,
// TCP or UDP header, including the packet an ICMP error quotes (RFC 792: the offending IP header and at least
// 8 bytes of its payload; Linux quotes up to 576 bytes in all). The one-line summary follows tcpdump's wording
// (`Flags [S.]`, `options [mss 1460,sackOK,TS val … ecr …,nop,wscale 7]`) so it reads like `tcpdump -n -v`.
// ICMP types and codes get the names iptables' REJECT uses. Limits: IPv4 only, no IP options decoded, sequence
// numbers are absolute, only the first fragment has a transport header.

import { formatIpv4, readU16, readU32 } from '../../src/wire/addr.js';

export interface DecodedTcp {
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  /** tcpdump flag letters, e.g. `S.` for SYN+ACK, `R.` for RST+ACK. */
  flags: string;
  win: number;
  /** tcpdump-style option list, e.g. ['mss 1460', 'sackOK', 'TS val 1 ecr 0', 'nop', 'wscale 7']. */
  options: string[];
  mss?: number;
  payloadLen: number;
}

export interface DecodedUdp {
  sport: number;
  dport: number;
  payloadLen: number;
}

export interface DecodedIcmp {
  type: number;
  code: number;
  /** Echo identifier and sequence (types 0 and 8). */
  id?: number;
  seq?: number;
  /** Next-hop MTU of a frag-needed error (RFC 1191). */
  mtu?: number;
  /** The packet an error quotes. */
  inner?: DecodedIp;
}

export interface DecodedIp {
  src: string;
  dst: string;
  ttl: number;
  tos: number;
  id: number;
  df: boolean;
  fragOffset: number;
  /** IPv4 total length from the header. */
  len: number;
  /** IPv4 header length (IHL × 4). */
  hdrLen: number;
  proto: number;
  icmp?: DecodedIcmp;
  tcp?: DecodedTcp;
  udp?: DecodedUdp;
}

const ICMP_UNREACH: Record<number, string> = {
  0: 'net-unreachable',
  1: 'host-unreachable',
  2: 'proto-unreachable',
  3: 'port-unreachable',
  4: 'frag-needed',
  5: 'source-route-failed',
  6: 'net-unknown',
  7: 'host-unknown',
  9: 'net-prohibited',
  10: 'host-prohibited',
  11: 'net-tos-unreachable',
  12: 'host-tos-unreachable',
  13: 'admin-prohibited',
  14: 'host-precedence-violation',
  15: 'precedence-cutoff',
};

export function icmpName(type: number, code: number): string {
  if (type === 3) return ICMP_UNREACH[code] ?? `unreachable-code-${code}`;
  if (type === 11)
    return code === 0 ? 'time-exceeded' : code === 1 ? 'reassembly-time-exceeded' : `time-exceeded-${code}`;
  if (type === 0) return 'echo-reply';
  if (type === 8) return 'echo-request';
  if (type === 5) return 'redirect';
  if (type === 12) return 'parameter-problem';
  if (type === 4) return 'source-quench';
  return `type-${type}-code-${code}`;
}

export function isIcmpError(type: number): boolean {
  return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
}

// tcpdump prints flags in this order (print-tcp.c tcp_flag_values).
const TCP_FLAGS: [number, string][] = [
  [0x01, 'F'],
  [0x02, 'S'],
  [0x04, 'R'],
  [0x08, 'P'],
  [0x10, '.'],
  [0x20, 'U'],
  [0x40, 'E'],
  [0x80, 'W'],
];

function tcpOptions(b: Uint8Array, start: number, end: number): { list: string[]; mss?: number } {
  const list: string[] = [];
  let mss: number | undefined;
  let o = start;
  while (o < end) {
    const kind = b[o]!;
    if (kind === 0) {
      list.push('eol');
      break;
    }
    if (kind === 1) {
      list.push('nop');
      o++;
      continue;
    }
    const len = b[o + 1];
    if (len === undefined || len < 2 || o + len > end) {
      list.push(`bad-option-${kind}`);
      break;
    }
    if (kind === 2 && len === 4) {
      mss = readU16(b, o + 2);
      list.push(`mss ${mss}`);
    } else if (kind === 3 && len === 3) list.push(`wscale ${b[o + 2]}`);
    else if (kind === 4 && len === 2) list.push('sackOK');
    else if (kind === 8 && len === 10) list.push(`TS val ${readU32(b, o + 2)} ecr ${readU32(b, o + 6)}`);
    else if (kind === 5) {
      const blocks: string[] = [];
      for (let p = o + 2; p + 8 <= o + len; p += 8) blocks.push(`{${readU32(b, p)}:${readU32(b, p + 4)}}`);
      list.push(`sack ${blocks.length} ${blocks.join('')}`);
    } else list.push(`unknown-${kind}`);
    o += len;
  }
  return mss === undefined ? { list } : { list, mss };
}

/**
 * Decodes an IPv4 packet; null when the bytes are not IPv4. `quoted` relaxes length checks for the truncated
 * packet inside an ICMP error.
 */
export function decodeIpv4(b: Uint8Array, quoted = false): DecodedIp | null {
  if (b.length < 20 || b[0]! >> 4 !== 4) return null;
  const ihl = (b[0]! & 0x0f) * 4;
  if (ihl < 20 || b.length < ihl) return null;
  const len = readU16(b, 2);
  const fragWord = readU16(b, 6);
  const ip: DecodedIp = {
    src: formatIpv4(readU32(b, 12)),
    dst: formatIpv4(readU32(b, 16)),
    ttl: b[8]!,
    tos: b[1]!,
    id: readU16(b, 4),
    df: (fragWord & 0x4000) !== 0,
    fragOffset: (fragWord & 0x1fff) * 8,
    len,
    hdrLen: ihl,
    proto: b[9]!,
  };
  if (ip.fragOffset !== 0) return ip;
  const end = quoted ? b.length : Math.min(b.length, len);
  const l4 = b.subarray(ihl, end);
  const l4Len = (quoted ? len : end) - ihl;
  if (ip.proto === 1 && l4.length >= 8) {
    const icmp: DecodedIcmp = { type: l4[0]!, code: l4[1]! };
    if (icmp.type === 0 || icmp.type === 8) {
      icmp.id = readU16(l4, 4);
      icmp.seq = readU16(l4, 6);
    } else if (isIcmpError(icmp.type)) {
      if (icmp.type === 3 && icmp.code === 4) icmp.mtu = readU16(l4, 6);
      const inner = quoted ? null : decodeIpv4(l4.subarray(8), true);
      if (inner) icmp.inner = inner;
    }
    ip.icmp = icmp;
  } else if (ip.proto === 6 && l4.length >= 8) {
    const hasHeader = l4.length >= 20;
    const off = hasHeader ? (l4[12]! >> 4) * 4 : 20;
    const flagByte = hasHeader ? l4[13]! : 0;
    const opts = hasHeader && off > 20 && l4.length >= off ? tcpOptions(l4, 20, off) : { list: [] };
    ip.tcp = {
      sport: readU16(l4, 0),
      dport: readU16(l4, 2),
      seq: readU32(l4, 4),
      ack: hasHeader ? readU32(l4, 8) : 0,
      flags: TCP_FLAGS.filter(([bit]) => flagByte & bit)
        .map(([, c]) => c)
        .join(''),
      win: hasHeader ? readU16(l4, 14) : 0,
      options: opts.list,
      payloadLen: Math.max(0, l4Len - off),
    };
    if (opts.mss !== undefined) ip.tcp.mss = opts.mss;
  } else if (ip.proto === 17 && l4.length >= 8) {
    ip.udp = { sport: readU16(l4, 0), dport: readU16(l4, 2), payloadLen: Math.max(0, readU16(l4, 4) - 8) };
  }
  return ip;
}

function flowText(ip: DecodedIp): string {
  if (ip.tcp) return `TCP ${ip.src}.${ip.tcp.sport} > ${ip.dst}.${ip.tcp.dport}`;
  if (ip.udp) return `UDP ${ip.src}.${ip.udp.sport} > ${ip.dst}.${ip.udp.dport}`;
  if (ip.icmp) return `ICMP ${ip.src} > ${ip.dst} ${icmpName(ip.icmp.type, ip.icmp.code).replace('-', ' ')}`;
  return `proto ${ip.proto} ${ip.src} > ${ip.dst}`;
}

/** One line in tcpdump's spirit, without the addresses (the packet record carries those). */
export function summarize(ip: DecodedIp): string {
  if (ip.fragOffset !== 0) return `IP fragment offset ${ip.fragOffset}, proto ${ip.proto}, length ${ip.len}`;
  const { icmp, tcp, udp } = ip;
  if (icmp) {
    if (icmp.type === 0 || icmp.type === 8) {
      return `ICMP echo ${icmp.type === 8 ? 'request' : 'reply'}, id ${icmp.id}, seq ${icmp.seq}, length ${ip.len - ip.hdrLen}`;
    }
    const name = icmpName(icmp.type, icmp.code);
    const mtu = icmp.mtu !== undefined ? ` mtu ${icmp.mtu}` : '';
    const quoted = icmp.inner ? `, for ${flowText(icmp.inner)} (ttl ${icmp.inner.ttl})` : '';
    return `ICMP ${name} (${icmp.type}/${icmp.code})${mtu}${quoted}, length ${ip.len - ip.hdrLen}`;
  }
  if (tcp) {
    const ack = tcp.flags.includes('.') ? `, ack ${tcp.ack}` : '';
    const opts = tcp.options.length ? `, options [${tcp.options.join(',')}]` : '';
    return `TCP ${tcp.sport} > ${tcp.dport}: Flags [${tcp.flags}], seq ${tcp.seq}${ack}, win ${tcp.win}${opts}, length ${tcp.payloadLen}`;
  }
  if (udp) return `UDP ${udp.sport} > ${udp.dport}, length ${udp.payloadLen}`;
  return `IP proto ${ip.proto}, length ${ip.len}`;
}
