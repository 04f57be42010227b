// Address parsing the way kube-proxy reads Service and EndpointSlice fields: k8s.io/utils/net's "sloppy" parsers,
// which accept leading zeros in IPv4 octets and read them as decimal (`192.168.099.022` is 192.168.99.22, not
// octal), and print the canonical form back. CIDRs come back masked to their network address, as Go's
// net.ParseCIDR returns them. Limits: IPv4 only; IPv6 text parses as "not IPv4" and is skipped by callers.

import { formatIpv4, type Ipv4, prefixMask } from '../wire/addr.js';

/** Octets read by the last `scan`: -1 when the text is not an IPv4 address, else the address. */
let scanned = -1;
/** The last `scan` met an octet with a leading zero (so the text is not in canonical form). */
let scannedPadded = false;

// Four dot-separated runs of one to three decimal digits, each at most 255 (what splitting on '.' and matching
// /^[0-9]{1,3}$/ per part accepts), read without allocating: endpoints are parsed by the hundred thousand.
function scan(text: string): void {
  scanned = -1;
  scannedPadded = false;
  const n = text.length;
  let v = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  let padded = false;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? text.charCodeAt(i) : 46;
    if (c >= 48 && c <= 57) {
      if (digits === 3) return;
      if (digits === 1 && octet === 0) padded = true;
      octet = octet * 10 + (c - 48);
      digits++;
    } else if (c === 46) {
      if (digits === 0 || octet > 255) return;
      if (i < n && ++dots > 3) return;
      v = v * 256 + octet;
      octet = 0;
      digits = 0;
    } else return;
  }
  if (dots !== 3) return;
  scanned = v >>> 0;
  scannedPadded = padded;
}

/** An IPv4 address with Go's sloppy octet rules, or null. */
export function parseIpSloppy(text: string): Ipv4 | null {
  scan(text);
  return scanned < 0 ? null : scanned;
}

/** The canonical text of a sloppily written IPv4 address, or null when it is not one. */
export function canonicalIp(text: string): string | null {
  scan(text);
  if (scanned < 0) return null;
  return scannedPadded ? formatIpv4(scanned) : text;
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
