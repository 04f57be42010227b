// Address parsing the way kube-proxy reads Service and EndpointSlice fields: k8s.io/utils/net's "sloppy" parsers,
// which accept leading zeros in IPv4 octets and read them as decimal (`192.168.099.022` is 192.168.99.22, not
// octal), and print the canonical form back. CIDRs come back masked to their network address, as Go's
// net.ParseCIDR returns them. Limits: IPv4 only; IPv6 text parses as "not IPv4" and is skipped by callers.

import { formatIpv4, type Ipv4, prefixMask } from '../wire/addr.js';

/** An IPv4 address with Go's sloppy octet rules, or null. */
export function parseIpSloppy(text: string): Ipv4 | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let v = 0;
  for (const p of parts) {
    if (!/^[0-9]{1,3}$/.test(p)) return null;
    const n = Number.parseInt(p, 10);
    if (n > 255) return null;
    v = v * 256 + n;
  }
  return v >>> 0;
}

/** The canonical text of a sloppily written IPv4 address, or null when it is not one. */
export function canonicalIp(text: string): string | null {
  const a = parseIpSloppy(text);
  return a === null ? null : formatIpv4(a);
}

export interface Net4 {
  /** Network address (host bits cleared). */
  addr: Ipv4;
  len: number;
}

/** `203.0.113.000/025` → 203.0.113.0/25; host bits are cleared as Go's ParseCIDR does. */
export function parseCidrSloppy(text: string): Net4 | null {
  const slash = text.indexOf('/');
  if (slash < 0) return null;
  const addr = parseIpSloppy(text.slice(0, slash));
  const lenText = text.slice(slash + 1);
  if (addr === null || !/^[0-9]{1,3}$/.test(lenText)) return null;
  const len = Number.parseInt(lenText, 10);
  if (len > 32) return null;
  return { addr: (addr & prefixMask(len)) >>> 0, len };
}

export function formatNet(n: Net4): string {
  return `${formatIpv4(n.addr)}/${n.len}`;
}

export function netContains(n: Net4, a: Ipv4): boolean {
  return ((a ^ n.addr) & prefixMask(n.len)) === 0;
}
