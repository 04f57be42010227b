// The one error type of the wire layer: a header that is too short for what it claims, or fields no kernel
// would accept (IPv4 version 5, header length 4, ARP for a hardware type other than Ethernet). `layer` names the
// header ("ipv4", "tcp", ...) so that a caller can turn it into a drop reason without parsing the message; the
// message names the protocol too ("IPv4 version 5"), so it reads on its own in a trace.

export class WireError extends Error {
  constructor(
    readonly layer: string,
    message: string,
  ) {
    super(message);
    this.name = 'WireError';
  }
}

const LAYER_NAMES: Record<string, string> = {
  ethernet: 'Ethernet',
  arp: 'ARP',
  ipv4: 'IPv4',
  icmp: 'ICMP',
  udp: 'UDP',
  tcp: 'TCP',
  vxlan: 'VXLAN',
};

/** Throws unless `len` bytes starting at `o` lie inside `b`. */
export function need(b: Uint8Array, o: number, len: number, layer: string, what = 'header'): void {
  if (!Number.isInteger(o) || o < 0 || len < 0 || o + len > b.length) {
    const name = LAYER_NAMES[layer] ?? layer;
    throw new WireError(
      layer,
      `truncated ${name} ${what}: need ${len} bytes at offset ${o}, have ${Math.max(0, b.length - o)}`,
    );
  }
}
