// Names and comments the reference plugins give their iptables objects (containernetworking/plugins pkg/utils):
// a chain is "CNI-" + prefix + the hex SHA-512 of network name + container ID, cut to 28 characters, so the
// same attachment always finds its chains again; the comment names both.

import { createHash } from 'node:crypto';

const MAX_CHAIN_LENGTH = 28;
const CHAIN_PREFIX = 'CNI-';

/** MustFormatHashWithPrefix: `prefix` followed by the SHA-512 of `toHash` in hex, `length` characters in all. */
export function formatHashWithPrefix(length: number, prefix: string, toHash: string): string {
  if (prefix.length >= length || length > 128) throw new Error('invalid length');
  return (prefix + createHash('sha512').update(toHash, 'utf8').digest('hex')).slice(0, length);
}

/** MustFormatChainNameWithPrefix: `CNI-DN-3f…` for ("dbnet", id, "DN-"). */
export function formatChainNameWithPrefix(name: string, id: string, prefix: string): string {
  return formatHashWithPrefix(MAX_CHAIN_LENGTH, CHAIN_PREFIX + prefix, name + id);
}

/** FormatChainName: the bridge and ptp plugins' per-container masquerade chain, `CNI-` and 24 hex digits. */
export function formatChainName(name: string, id: string): string {
  return formatChainNameWithPrefix(name, id, '');
}

/** FormatComment: `name: "dbnet" id: "0b1d…"` (Go's %q quoting). */
export function formatComment(name: string, id: string): string {
  return `name: ${JSON.stringify(name)} id: ${JSON.stringify(id)}`;
}
