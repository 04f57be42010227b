// VXLAN header (RFC 7348): flags (only I, "VNI valid", is defined), 24 reserved bits, the 24-bit VNI and 8
// reserved bits. Linux's vxlan driver listens on 8472 unless told otherwise (the port flannel uses); 4789 is the
// IANA port. Reserved bits are written as zero and ignored on parse; GBP and GPE extensions are not modelled.

import { readU32, writeU32 } from './addr.js';
import { need, WireError } from './errors.js';

export const VXLAN_HLEN = 8;
export const VXLAN_FLAG_I = 0x08;
export const VXLAN_DEFAULT_PORT_LINUX = 8472;
export const VXLAN_IANA_PORT = 4789;

export interface VxlanRepr {
  flags: number;
  vni: number;
}

export function parseVxlan(b: Uint8Array, o: number): VxlanRepr {
  need(b, o, VXLAN_HLEN, 'vxlan');
  return { flags: b[o]!, vni: readU32(b, o + 4) >>> 8 };
}

export function emitVxlan(b: Uint8Array, o: number, r: VxlanRepr): void {
  if (r.vni < 0 || r.vni > 0xffffff) throw new WireError('vxlan', `VXLAN VNI ${r.vni} does not fit in 24 bits`);
  need(b, o, VXLAN_HLEN, 'vxlan');
  writeU32(b, o, ((r.flags & 0xff) << 24) >>> 0);
  writeU32(b, o + 4, (r.vni << 8) >>> 0);
}
