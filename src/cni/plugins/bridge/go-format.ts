// How the reference plugin's Go code prints values inside its error messages, so that podwire's CNI errors read
// exactly like the real ones: `%q` (strconv.Quote), syscall.Errno text ("file exists"), a net.IPNet printed by value
// with `%v` (`{10.0.0.0 ffffff00}`) and with `%+v` (`{IP:10.0.0.0 Mask:ffffff00}`), and a net.IP that may be nil
// (`<nil>`). Only what the bridge plugin's messages need; IPv4 only.
// Limits: `%q` of a string with invalid UTF-8 cannot arise from a JS string and is not modelled.

import { NetlinkError } from '../../../netns/errors.js';
import { formatIpv4, type Ipv4, prefixMask } from '../../../wire/addr.js';

/** strconv.Quote: double quotes, backslash escapes for `"` `\` and control characters, printable runes kept. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    switch (ch) {
      case '"':
        out += '\\"';
        continue;
      case '\\':
        out += '\\\\';
        continue;
      case '\x07':
        out += '\\a';
        continue;
      case '\b':
        out += '\\b';
        continue;
      case '\f':
        out += '\\f';
        continue;
      case '\n':
        out += '\\n';
        continue;
      case '\r':
        out += '\\r';
        continue;
      case '\t':
        out += '\\t';
        continue;
      case '\v':
        out += '\\v';
        continue;
    }
    if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (c >= 0x80 && c < 0xa0) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** syscall.Errno.Error() for the errnos the emulated kernel reports. */
const ERRNO_TEXT: Record<string, string> = {
  EEXIST: 'file exists',
  ENOENT: 'no such file or directory',
  ESRCH: 'no such process',
  EINVAL: 'invalid argument',
  ENETUNREACH: 'network is unreachable',
  ENETDOWN: 'network is down',
  EHOSTUNREACH: 'no route to host',
  EADDRNOTAVAIL: 'cannot assign requested address',
  EOPNOTSUPP: 'operation not supported',
  ENODEV: 'no such device',
  EBUSY: 'device or resource busy',
  ELOOP: 'too many levels of symbolic links',
  ERANGE: 'numerical result out of range',
  EPERM: 'operation not permitted',
};

/** What a netlink call's error prints as in Go (`%v` of a syscall.Errno). */
export function errnoText(e: unknown): string {
  if (e instanceof NetlinkError) return ERRNO_TEXT[e.errno] ?? e.message;
  return e instanceof Error ? e.message : String(e);
}

/** net.IPMask.String(): the mask bytes in hex. */
export function maskHex(len: number): string {
  return prefixMask(len).toString(16).padStart(8, '0');
}

/** A 16-byte IPv4-in-IPv6 mask (what `net.IPMask(net.IPv4zero)` yields) in hex. */
export const IPV4ZERO_MASK16_HEX = '00000000000000000000ffff00000000';

/** `%v` of a net.IPNet value: `{10.0.0.0 ffffff00}`. */
export function ipNetValue(ip: Ipv4, maskText: string): string {
  return `{${formatIpv4(ip)} ${maskText}}`;
}

/** `%+v` of a net.IPNet value: `{IP:10.0.0.0 Mask:ffffff00}`. */
export function ipNetFields(ip: Ipv4, len: number): string {
  return `{IP:${formatIpv4(ip)} Mask:${maskHex(len)}}`;
}

/** `%v` of a net.IP that may be nil. */
export function goIp(ip: Ipv4 | null | undefined): string {
  return ip === null || ip === undefined ? '<nil>' : formatIpv4(ip);
}
