// Addresses as the stack handles them: IPv4 as an unsigned 32-bit number and MAC as a 48-bit number, so that
// the per-packet path compares integers, never strings. Text forms exist only at the edges (scenario input,
// printing). Parsing is strict like iproute2's `get_addr`: four decimal octets, no leading zeros that would
// read as octal elsewhere, no shorthand. IPv6 is recognised only to reject it with a clear message.

export type Ipv4 = number;
export type Mac = number;

export const IPV4_ANY: Ipv4 = 0;
export const IPV4_BROADCAST: Ipv4 = 0xffffffff;
export const MAC_BROADCAST: Mac = 0xffffffffffff;
export const MAC_ZERO: Mac = 0;

const OCTET = /^(0|[1-9][0-9]{0,2})$/;

/** Parses a dotted quad; returns null for anything else (including IPv6 and octal-looking octets). */
export function parseIpv4(text: string): Ipv4 | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let v = 0;
  for (const p of parts) {
    if (!OCTET.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    v = v * 256 + n;
  }
  return v >>> 0;
}

export function formatIpv4(a: Ipv4): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

export function looksLikeIpv6(text: string): boolean {
  return text.includes(':') && /^[0-9a-fA-F:.]+(\/\d+)?$/.test(text);
}

/** Netmask for a prefix length, as uint32. `prefixMask(0) === 0`. */
export function prefixMask(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

export function inPrefix(a: Ipv4, net: Ipv4, len: number): boolean {
  return ((a ^ net) & prefixMask(len)) === 0;
}

export interface Cidr {
  addr: Ipv4;
  len: number;
}

/** `10.0.0.1/24` → {addr: 10.0.0.1, len: 24}; a bare address has len 32. Host bits are kept (ip addr needs them). */
export function parseCidr(text: string): Cidr | null {
  const slash = text.indexOf('/');
  const ipText = slash < 0 ? text : text.slice(0, slash);
  const addr = parseIpv4(ipText);
  if (addr === null) return null;
  if (slash < 0) return { addr, len: 32 };
  const lenText = text.slice(slash + 1);
  if (!/^(0|[1-9][0-9]?)$/.test(lenText)) return null;
  const len = Number(lenText);
  if (len > 32) return null;
  return { addr, len };
}

export function formatCidr(c: Cidr): string {
  return `${formatIpv4(c.addr)}/${c.len}`;
}

export function networkOf(c: Cidr): Ipv4 {
  return (c.addr & prefixMask(c.len)) >>> 0;
}

export function broadcastOf(c: Cidr): Ipv4 {
  return (c.addr | ~prefixMask(c.len)) >>> 0;
}

export function parseMac(text: string): Mac | null {
  const m =
    /^([0-9a-fA-F]{2}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2})$/.exec(
      text,
    );
  if (!m) return null;
  let v = 0;
  for (let i = 1; i <= 6; i++) v = v * 256 + Number.parseInt(m[i]!, 16);
  return v;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function formatMac(m: Mac): string {
  const hi = Math.floor(m / 0x1000000);
  const lo = m % 0x1000000;
  return `${HEX[(hi >>> 16) & 255]}:${HEX[(hi >>> 8) & 255]}:${HEX[hi & 255]}:${HEX[(lo >>> 16) & 255]}:${HEX[(lo >>> 8) & 255]}:${HEX[lo & 255]}`;
}

export function readMac(b: Uint8Array, o: number): Mac {
  const lo = ((b[o + 2]! << 24) | (b[o + 3]! << 16) | (b[o + 4]! << 8) | b[o + 5]!) >>> 0;
  return (b[o]! * 256 + b[o + 1]!) * 0x100000000 + lo;
}

export function writeMac(b: Uint8Array, o: number, m: Mac): void {
  const hi = Math.floor(m / 0x100000000);
  const lo = m >>> 0;
  b[o] = (hi >>> 8) & 255;
  b[o + 1] = hi & 255;
  b[o + 2] = lo >>> 24;
  b[o + 3] = (lo >>> 16) & 255;
  b[o + 4] = (lo >>> 8) & 255;
  b[o + 5] = lo & 255;
}

/** Group bit of the first octet: broadcast and multicast frames are flooded by bridges. */
export function isMulticastMac(m: Mac): boolean {
  return (Math.floor(m / 0x10000000000) & 1) === 1;
}

export function readU32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

export function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 255;
  b[o + 2] = (v >>> 8) & 255;
  b[o + 3] = v & 255;
}

export function readU16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

export function writeU16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 255;
  b[o + 1] = v & 255;
}
