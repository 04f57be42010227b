// One-line descriptions of frames in the words of `tcpdump -n -t -S` (no timestamp, numeric addresses, absolute
// TCP sequence numbers, no link-level header), checked against tcpdump 4.99.3 on frames captured from Linux, on
// every truncation of them, and on frames built from random fields. Covered: ARP, IPv4 with ICMP, UDP and TCP
// (with options), fragments, VXLAN on UDP port 4789 or 8472 with the inner frame after ": " (tcpdump puts it on a
// line of its own, and reads 8472 as OTV unless given -T vxlan), 802.1Q tags (skipped, as tcpdump does without
// -e), and truncated or malformed headers with tcpdump's "[|proto]" marks, down to its quirks. Never throws.
// Not covered: application protocols (tcpdump decodes DNS, HTTP, ... by port), IP protocols other than ICMP, UDP
// and TCP (printed as ip-proto-N where tcpdump may decode GRE, ESP, SCTP, ...), IP options, IPv6 beyond its
// addresses, ICMP extension objects, the hex dump tcpdump adds for unknown ethertypes and ARP opcodes, and
// verbose (-v) output. Like 4.99.3, the TCP AE flag is not shown (newer tcpdump prints it as "e").

import { formatIpv4, formatMac, readMac, readU16, readU32 } from './addr.js';
import { ETH_HLEN, ETH_P_8021Q, ETH_P_ARP, ETH_P_IP, ETH_P_IPV6 } from './ethernet.js';
import {
  ICMP_DEST_UNREACH,
  ICMP_ECHO,
  ICMP_ECHOREPLY,
  ICMP_FRAG_NEEDED,
  ICMP_PARAMETERPROB,
  ICMP_PORT_UNREACH,
  ICMP_PROT_UNREACH,
  ICMP_REDIRECT,
  ICMP_TIME_EXCEEDED,
  icmpTypeName,
} from './icmp.js';
import { IP_MF, IP_OFFMASK, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from './ipv4.js';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, TCP_URG, tcpFlagsString } from './tcp.js';
import { VXLAN_DEFAULT_PORT_LINUX, VXLAN_FLAG_I, VXLAN_HLEN, VXLAN_IANA_PORT } from './vxlan.js';

const ETH_P_8021AD = 0x88a8;
/** VXLAN inside VXLAN inside ... is described this deep, then cut. */
const MAX_NESTING = 4;

/** Names tcpdump gives ethertypes it does not decode here (they are decoded there, so this is approximate). */
const ETHERTYPE_NAMES = new Map<number, string>([
  [0x8035, 'Reverse ARP'],
  [0x8847, 'MPLS unicast'],
  [0x8848, 'MPLS multicast'],
  [0x8863, 'PPPoE D'],
  [0x8864, 'PPPoE S'],
  [0x888e, 'EAPOL'],
  [0x88cc, 'LLDP'],
]);

function hex(v: number, digits: number): string {
  return v.toString(16).padStart(digits, '0');
}

/** Describes the Ethernet frame b[o, o+len) as one line. */
export function describeFrame(b: Uint8Array, o = 0, len: number = b.length - o): string {
  const start = Math.max(0, Math.min(o, b.length));
  const end = Math.max(start, Math.min(start + Math.max(0, len), b.length));
  // The parts below return tcpdump's exact text, which starts with a space when it is only a truncation mark.
  return describeEther(b, start, end, end, 0).trimStart();
}

// Each part gets two ends: `wire`, where the packet ends by the lengths its enclosing headers claim (what tcpdump
// calls length), and `cap`, where the captured bytes end (tcpdump's caplen). "truncated-ip" compares the IPv4
// total length with the first; "[|proto]" marks running into the second.

function describeEther(b: Uint8Array, o: number, wire: number, cap: number, depth: number): string {
  if (cap - o < ETH_HLEN) return ' [|ether]';
  let type = readU16(b, o + 12);
  let p = o + ETH_HLEN;
  // Stacked 802.1Q/802.1ad tags: tcpdump shows them only with -e, so only the payload type matters here.
  while ((type === ETH_P_8021Q || type === ETH_P_8021AD) && p - o < 4 * 8) {
    if (cap - p < 4) return ' [|vlan]';
    type = readU16(b, p + 2);
    p += 4;
  }
  switch (type) {
    case ETH_P_IP:
      return describeIpv4(b, p, wire, cap, depth);
    case ETH_P_ARP:
      return describeArp(b, p, wire, cap);
    case ETH_P_IPV6:
      return describeIpv6(b, p, cap);
    default: {
      const macs = `${formatMac(readMac(b, o + 6))} > ${formatMac(readMac(b, o))}`;
      if (type < 0x0600) return `${macs}, 802.3, length ${wire - o}`;
      return `${macs}, ethertype ${ETHERTYPE_NAMES.get(type) ?? 'Unknown'} (0x${hex(type, 4)}), length ${wire - o}`;
    }
  }
}

function linkAddr(b: Uint8Array, o: number, n: number): string {
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(hex(b[o + i]!, 2));
  return parts.join(':');
}

function isZero(b: Uint8Array, o: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (b[o + i] !== 0) return false;
  return true;
}

function describeArp(b: Uint8Array, o: number, wire: number, cap: number): string {
  const length = wire - o;
  if (cap - o < 8) return ' [|arp]';
  const hrd = readU16(b, o);
  const pro = readU16(b, o + 2);
  const hln = b[o + 4]!;
  const pln = b[o + 5]!;
  const op = readU16(b, o + 6);
  const sha = o + 8;
  const spa = sha + hln;
  const tha = spa + pln;
  const tpa = tha + hln;
  if (tpa + pln > cap) return ' [|arp]';
  if (pro !== ETH_P_IP || pln !== 4 || hln === 0) {
    const hw = hrd === 1 ? 'Ethernet' : `Unknown Hardware (${hrd})`;
    const proto = pro === ETH_P_IP ? 'IPv4' : pro === ETH_P_IPV6 ? 'IPv6' : `Unknown Protocol (0x${hex(pro, 4)})`;
    return `ARP, ${hw} (len ${hln}), ${proto} (len ${pln}), length ${length}`;
  }
  const ip = (at: number): string => formatIpv4(readU32(b, at));
  const hw = (at: number): string => linkAddr(b, at, hln);
  let text: string;
  switch (op) {
    case 1:
      text = `Request who-has ${ip(tpa)}${isZero(b, tha, hln) ? '' : ` (${hw(tha)})`} tell ${ip(spa)}`;
      break;
    case 2:
      text = `Reply ${ip(spa)} is-at ${hw(sha)}`;
      break;
    case 3:
      text = `Reverse Request who-is ${hw(tha)} tell ${hw(sha)}`;
      break;
    case 4:
      text = `Reverse Reply ${hw(tha)} at ${ip(tpa)}`;
      break;
    case 8:
      text = `Inverse Request who-is ${hw(tha)} tell ${hw(sha)}`;
      break;
    case 9:
      text = `Inverse Reply ${hw(sha)} at ${ip(spa)}`;
      break;
    default:
      // tcpdump follows this with a hex dump of the packet, and no length.
      return `ARP, Unknown (${op})`;
  }
  return `ARP, ${text}, length ${length}`;
}

function describeIpv4(b: Uint8Array, o: number, wire: number, cap: number, depth: number): string {
  const avail = cap - o;
  if (avail <= 0) return ' [|ip]';
  const version = b[o]! >> 4;
  if (version === 6) return 'IP6, wrong link-layer encapsulation (invalid)';
  if (version !== 4) return `IP${version} (invalid)`;
  if (avail < 20) return 'IP  [|ip]';
  if (wire - o < 20) return `IP truncated-ip ${wire - o}`;
  const hl = (b[o]! & 0x0f) * 4;
  if (hl < 20) return `IP bad-hlen ${hl}`;
  const total = readU16(b, o + 2);
  let head = 'IP ';
  if (total > wire - o) head += `truncated-ip - ${total - (wire - o)} bytes missing! `;
  if (total < hl) return `${head}bad-len ${total}`;
  const stop = Math.min(cap, o + total);
  const src = formatIpv4(readU32(b, o + 12));
  const dst = formatIpv4(readU32(b, o + 16));
  const proto = b[o + 9]!;
  const frag = readU16(b, o + 6);
  const l4 = o + hl;
  const l4len = total - hl;
  if ((frag & IP_OFFMASK) !== 0) return `${head}${src} > ${dst}: ip-proto-${proto}`;
  // TCP and UDP print the addresses themselves, with the ports.
  if (proto !== IPPROTO_TCP && proto !== IPPROTO_UDP) head += `${src} > ${dst}: `;
  if (hl > stop - o) return `${head} [remaining caplen(${stop - o}) < header length(${hl})] [|ip]`;
  const fragmented = (frag & IP_MF) !== 0;
  switch (proto) {
    case IPPROTO_ICMP:
      return head + describeIcmp(b, l4, stop, l4len);
    case IPPROTO_UDP:
      return head + describeUdp(b, l4, stop, l4len, src, dst, fragmented, depth);
    case IPPROTO_TCP:
      return head + describeTcp(b, l4, stop, l4len, src, dst);
    default:
      return `${head} ip-proto-${proto} ${l4len}`;
  }
}

/** Size of tcpdump's buffer for the ICMP text, MAXHOSTNAMELEN (64 on Linux) + 100, less the terminating NUL. */
const ICMP_TEXT_MAX = 163;

/** Milliseconds since midnight UT as hh:mm:ss.mmm (RFC 792 timestamps). */
function tstamp(ms: number): string {
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  const sec = Math.floor(ms / 1000);
  return `${pad(Math.floor(sec / 3600))}:${pad(Math.floor(sec / 60) % 60)}:${pad(sec % 60)}.${pad(ms % 1000, 3)}`;
}

function lifetime(s: number): string {
  if (s < 60) return `${s}`;
  if (s < 3600) return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  return `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

const REDIRECT_KINDS: [string, string][] = [
  ['redirect', 'net'],
  ['redirect', 'host'],
  ['redirect-tos', 'net'],
  ['redirect-tos', 'host'],
];

/** The ICMP part after "a > b: "; `stop` bounds the captured bytes, `length` is the IP payload length. */
function describeIcmp(b: Uint8Array, o: number, stop: number, length: number): string {
  const has = (n: number): boolean => o + n <= stop;
  const trunc = ' [|icmp]';
  if (!has(2)) return trunc;
  const type = b[o]!;
  const code = b[o + 1]!;
  // The quoted IP header of an error starts at o + 8.
  const qhl = has(9) ? (b[o + 8]! & 0x0f) * 4 : 0;
  const qdst = (): string => formatIpv4(readU32(b, o + 8 + 16));
  let text: string;
  switch (type) {
    case ICMP_ECHO:
    case ICMP_ECHOREPLY:
      if (!has(8)) return trunc;
      text = `echo ${type === ICMP_ECHO ? 'request' : 'reply'}, id ${readU16(b, o + 4)}, seq ${readU16(b, o + 6)}`;
      break;
    case ICMP_DEST_UNREACH:
      if (!has(8 + 20)) return trunc;
      if (code === ICMP_PORT_UNREACH) {
        if (!has(8 + qhl + 4)) return trunc;
        const qproto = b[o + 8 + 9]!;
        const dport = readU16(b, o + 8 + qhl + 2);
        if (qproto === IPPROTO_TCP) text = `${qdst()} tcp port ${dport} unreachable`;
        else if (qproto === IPPROTO_UDP) text = `${qdst()} udp port ${dport} unreachable`;
        else text = `${qdst()} protocol ${qproto} port ${dport} unreachable`;
      } else if (code === ICMP_PROT_UNREACH) {
        text = `${qdst()} protocol ${b[o + 8 + 9]} unreachable`;
      } else if (code === ICMP_FRAG_NEEDED) {
        const mtu = readU16(b, o + 6);
        text = `${qdst()} unreachable - need to frag${mtu ? ` (mtu ${mtu})` : ''}`;
      } else {
        // tcpdump's words, with the quoted destination after "net"/"host" or in front.
        const words = icmpTypeName(type, code);
        const m = /^(net |host )?(.*)$/.exec(words)!;
        text = m[1] ? `${m[1]}${qdst()} ${m[2]}` : `${qdst()} ${m[2]}`;
      }
      break;
    case ICMP_REDIRECT: {
      if (!has(8 + 20)) return trunc;
      const gw = formatIpv4(readU32(b, o + 4));
      const kind = REDIRECT_KINDS[code];
      text = kind ? `${kind[0]} ${qdst()} to ${kind[1]} ${gw}` : `redirect-#${code} ${qdst()} to ${gw}`;
      break;
    }
    case ICMP_TIME_EXCEEDED:
      if (!has(8 + 20)) return trunc;
      text = icmpTypeName(type, code);
      break;
    case ICMP_PARAMETERPROB:
      if (code) text = `parameter problem - code ${code}`;
      else if (!has(5)) return trunc;
      else text = `parameter problem - octet ${b[o + 4]}`;
      break;
    case 13:
      if (!has(8)) return trunc;
      text = `time stamp query id ${readU16(b, o + 4)} seq ${readU16(b, o + 6)}`;
      break;
    case 14: {
      if (!has(20)) return trunc;
      const ts = (at: number): string => tstamp(readU32(b, o + at));
      text = `time stamp reply id ${readU16(b, o + 4)} seq ${readU16(b, o + 6)}: org ${ts(8)}, recv ${ts(12)}, xmit ${ts(16)}`;
      break;
    }
    case 18:
      if (!has(12)) return trunc;
      text = `address mask is 0x${hex(readU32(b, o + 8), 8)}`;
      break;
    case 9: {
      if (!has(8)) return trunc;
      const num = b[o + 4]!;
      const size = b[o + 5]!;
      text = `router advertisement lifetime ${lifetime(readU16(b, o + 6))} ${num}:`;
      if (size !== 2) text += ` [size ${size}]`;
      else {
        for (let k = 0; k < num; k++) {
          const at = o + 8 + 8 * k;
          if (at + 8 > stop) return trunc;
          text += ` {${formatIpv4(readU32(b, at))} ${readU32(b, at + 4)}}`;
        }
      }
      // tcpdump formats into a fixed buffer and silently cuts what does not fit.
      text = text.slice(0, ICMP_TEXT_MAX);
      break;
    }
    default:
      text = icmpTypeName(type, code);
  }
  return `ICMP ${text}, length ${length}`;
}

function describeUdp(
  b: Uint8Array,
  o: number,
  stop: number,
  length: number,
  src: string,
  dst: string,
  fragmented: boolean,
  depth: number,
): string {
  if (o + 4 > stop) return `${src} > ${dst}:  [|udp]`;
  const sport = readU16(b, o);
  const dport = readU16(b, o + 2);
  const head = `${src}.${sport} > ${dst}.${dport}: `;
  if (length < 8) return `${head}truncated-udp ${length}`;
  if (o + 8 > stop) return `${head} [|udp]`;
  const ulenField = readU16(b, o + 4);
  if (ulenField < 8) return `${head}truncated-udplength ${ulenField}`;
  const ulen = ulenField - 8;
  const avail = length - 8;
  const vxlanPort = (p: number): boolean => p === VXLAN_IANA_PORT || p === VXLAN_DEFAULT_PORT_LINUX;
  if (vxlanPort(sport) || vxlanPort(dport)) {
    return head + describeVxlan(b, o + 8, o + 8 + Math.min(ulen, avail), stop, depth);
  }
  if (ulen > avail && !fragmented) return `${head}UDP, bad length ${ulen} > ${avail}`;
  return `${head}UDP, length ${ulen}`;
}

function describeVxlan(b: Uint8Array, o: number, wire: number, stop: number, depth: number): string {
  // tcpdump prints field by field and marks the point where the capture ran out.
  const trunc = ' [|vxlan]';
  if (stop - o < 1) return `VXLAN${trunc}`;
  const flags = b[o]!;
  const head = `VXLAN, flags [${flags & VXLAN_FLAG_I ? 'I' : 'invalid'}] (0x${hex(flags, 2)}), `;
  let vni = 'ERROR: I flag not set';
  if (flags & VXLAN_FLAG_I) {
    if (stop - o < 7) return head + trunc;
    vni = `vni ${readU32(b, o + 4) >>> 8}`;
  }
  // tcpdump ends this line and describes the inner frame on the next one; here ": " joins them.
  if (stop - o < VXLAN_HLEN || depth >= MAX_NESTING) return `${head}${vni}: ${trunc}`;
  return `${head}${vni}: ${describeEther(b, o + VXLAN_HLEN, wire, stop, depth + 1)}`;
}

const TCP_OPTION_NAMES: Record<number, string> = {
  0: 'eol',
  1: 'nop',
  2: 'mss',
  3: 'wscale',
  4: 'sackOK',
  5: 'sack',
  6: 'echo',
  7: 'echoreply',
  8: 'TS',
  11: 'cc',
  12: 'ccnew',
  13: '', // tcpdump 4.99's table has an empty name for CC.ECHO
  19: 'md5',
  20: 'scps',
  28: 'uto',
  29: 'tcp-ao',
  30: 'mptcp',
  34: 'tfo',
  254: 'exp',
};

/** The capture ended inside the TCP options; `marked` when tcpdump 4.99 follows its " [|tcp]" with ">". */
class Truncated extends Error {
  constructor(
    readonly text: string,
    readonly marked: boolean,
  ) {
    super('truncated');
  }
}

/**
 * tcpdump's option list for the options in b[start, end); bytes at or past `cap` were not captured. `complete`
 * is false when tcpdump stopped at a malformed option ("[bad opt]"), after which it prints nothing more.
 * tcpdump 4.99 reads kind and length bytes with a plain bounds check but an option's data through LENCHECK,
 * whose truncation exit adds ">" unless it was the first option: both are reproduced through Truncated.
 */
function tcpOptions(b: Uint8Array, start: number, end: number, cap: number): { text: string; complete: boolean } {
  let text = '';
  let ch = '';
  let i = start;
  const get = (at: number): number => {
    if (at >= cap) throw new Truncated(text, false);
    return b[at]!;
  };
  const u16 = (at: number): number => (b[at]! << 8) | b[at + 1]!;
  const u32 = (at: number): number => readU32(b, at);
  while (i < end) {
    text += ch;
    const opt = get(i++);
    let len = 1;
    if (opt !== 0 && opt !== 1) {
      len = get(i++);
      if (len < 2 || len - 2 > end - i) return { text: `${text}[bad opt]${ch ? ']' : ''}`, complete: false };
    }
    text += TCP_OPTION_NAMES[opt] ?? `unknown-${opt}`;
    const left = end - i;
    // LENCHECK: false for "[bad opt]", throws when the bytes were not captured.
    const lencheck = (n: number): boolean => {
      if (n > left) return false;
      if (i + n > cap) throw new Truncated(text, ch !== '');
      return true;
    };
    const bad = (): { text: string; complete: boolean } => ({
      text: `${text}[bad opt]${ch ? ']' : ''}`,
      complete: false,
    });
    let datalen = 0;
    switch (opt) {
      case 2:
        datalen = 2;
        if (!lencheck(2)) return bad();
        text += ` ${u16(i)}`;
        break;
      case 3:
        datalen = 1;
        if (!lencheck(1)) return bad();
        text += ` ${b[i]}`;
        break;
      case 5:
        datalen = len - 2;
        if (datalen % 8 !== 0) text += ' invalid sack';
        else {
          text += ` ${datalen / 8} `;
          for (let k = 0; k < datalen; k += 8) {
            if (!lencheck(k + 4)) return bad();
            const left = u32(i + k);
            if (!lencheck(k + 8)) return bad();
            text += `{${left}:${u32(i + k + 4)}}`;
          }
        }
        break;
      case 6:
      case 7:
      case 11:
      case 12:
      case 13:
        datalen = 4;
        if (!lencheck(4)) return bad();
        text += ` ${u32(i)}`;
        break;
      case 8:
        datalen = 8;
        if (!lencheck(8)) return bad();
        text += ` val ${u32(i)} ecr ${u32(i + 4)}`;
        break;
      case 19:
        datalen = 16;
        if (!lencheck(16)) return bad();
        text += " shared secret not supplied with -M, can't check - ";
        for (let k = 0; k < 16; k++) text += hex(b[i + k]!, 2);
        break;
      case 20:
        datalen = 2;
        if (!lencheck(2)) return bad();
        text += ` cap ${hex(b[i]!, 2)} id ${b[i + 1]}`;
        break;
      case 28: {
        datalen = 2;
        if (!lencheck(2)) return bad();
        const uto = u16(i);
        text += ` 0x${uto.toString(16)} ${uto & 1 ? (uto >> 1) * 60 : uto >> 1}`;
        break;
      }
      case 29:
        datalen = len - 2;
        if (datalen < 2) text += ' (invalid)';
        else {
          if (!lencheck(1)) return bad();
          text += ` keyid ${b[i]}`;
          if (!lencheck(2)) return bad();
          text += ` rnextkeyid ${b[i + 1]}`;
          if (datalen > 2) {
            text += ' mac 0x';
            for (let k = 2; k < datalen; k++) {
              if (!lencheck(k + 1)) return bad();
              text += hex(b[i + k]!, 2);
            }
          }
        }
        break;
      case 0:
      case 1:
      case 4:
        break;
      default:
        datalen = len - 2;
        if (datalen) text += ' 0x';
        for (let k = 0; k < datalen; k++) {
          if (!lencheck(k + 1)) return bad();
          text += hex(b[i + k]!, 2);
        }
    }
    i += datalen;
    const spec = datalen + (opt === 0 || opt === 1 ? 1 : 2);
    if (spec !== len) text += `[len ${len}]`;
    ch = ',';
    if (opt === 0) break;
  }
  return { text, complete: true };
}

function describeTcp(b: Uint8Array, o: number, stop: number, length: number, src: string, dst: string): string {
  if (o + 4 > stop) return `${src} > ${dst}: [|tcp]`;
  const head = `${src}.${readU16(b, o)} > ${dst}.${readU16(b, o + 2)}: `;
  if (o + 20 > stop) return `${head} [|tcp]`;
  const hl = (b[o + 12]! >> 4) * 4;
  if (hl < 20) return `${head} tcp ${(length - hl) >>> 0} [bad hdr length ${hl} - too short, < 20]`;
  // tcpdump 4.99.3 reads the 8 classic flags only (AE and the reserved bits are not shown).
  const flags = b[o + 13]!;
  let text = `${head}Flags ${tcpFlagsString(flags)}`;
  if (hl > length) return `${text} [bad hdr length ${hl} - too long, > ${length}]`;
  const seq = readU32(b, o + 4);
  const dataLen = length - hl;
  if (dataLen > 0 || flags & (TCP_SYN | TCP_FIN | TCP_RST)) {
    text += `, seq ${seq}`;
    if (dataLen > 0) text += `:${(seq + dataLen) >>> 0}`;
  }
  if (flags & TCP_ACK) text += `, ack ${readU32(b, o + 8)}`;
  text += `, win ${readU16(b, o + 14)}`;
  if (flags & TCP_URG) text += `, urg ${readU16(b, o + 18)}`;
  if (hl > 20) {
    let opts: { text: string; complete: boolean };
    try {
      opts = tcpOptions(b, o + 20, o + hl, stop);
    } catch (e) {
      if (e instanceof Truncated) return `${text}, options [${e.text} [|tcp]${e.marked ? '>' : ''}`;
      throw e;
    }
    text += `, options [${opts.text}`;
    if (!opts.complete) return text;
    text += ']';
  }
  text += `, length ${dataLen}`;
  // Before decoding a payload tcpdump wants the whole header captured (EOL can end the option walk early).
  if (dataLen > 0 && o + hl > stop) text += ` [remaining caplen(${stop - o}) < header length(${hl})] [|tcp]`;
  return text;
}

/** RFC 5952 text form, as inet_ntop prints it (longest run of two or more zero groups becomes "::"). */
export function formatIpv6(b: Uint8Array, o: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(readU16(b, o + 2 * i));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const part = (from: number, to: number): string =>
    groups
      .slice(from, to)
      .map((g) => g.toString(16))
      .join(':');
  if (bestStart < 0) return part(0, 8);
  return `${part(0, bestStart)}::${part(bestStart + bestLen, 8)}`;
}

function describeIpv6(b: Uint8Array, o: number, end: number): string {
  if (end - o < 40) return 'IP6 [|ip6]';
  const plen = readU16(b, o + 4);
  const nh = b[o + 6]!;
  return `IP6 ${formatIpv6(b, o + 8)} > ${formatIpv6(b, o + 24)}: next-header ${nh}, length ${plen} (IPv6 not supported)`;
}
