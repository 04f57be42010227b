// Ethernet II header (IEEE 802.3 framing as Linux's eth_header writes it): destination, source, ethertype.
// Veth and bridges in Linux carry frames without the 4-byte FCS and without padding to ETH_ZLEN (padding happens
// in NIC drivers), so frames here are exactly the captured bytes. 802.1Q tags are recognised by ethertype only.

import { type Mac, readMac, readU16, writeMac, writeU16 } from './addr.js';
import { need } from './errors.js';

export const ETH_HLEN = 14;
export const ETH_ALEN = 6;
export const ETH_ZLEN = 60;
export const ETH_P_IP = 0x0800;
export const ETH_P_ARP = 0x0806;
export const ETH_P_IPV6 = 0x86dd;
export const ETH_P_8021Q = 0x8100;

export interface EthRepr {
  dst: Mac;
  src: Mac;
  ethertype: number;
}

export function parseEth(b: Uint8Array, o: number): EthRepr {
  need(b, o, ETH_HLEN, 'ethernet');
  return { dst: readMac(b, o), src: readMac(b, o + 6), ethertype: readU16(b, o + 12) };
}

export function emitEth(b: Uint8Array, o: number, r: EthRepr): void {
  need(b, o, ETH_HLEN, 'ethernet');
  writeMac(b, o, r.dst);
  writeMac(b, o + 6, r.src);
  writeU16(b, o + 12, r.ethertype);
}

export function ethType(b: Uint8Array, o: number): number {
  return readU16(b, o + 12);
}

export function ethDst(b: Uint8Array, o: number): Mac {
  return readMac(b, o);
}

export function ethSrc(b: Uint8Array, o: number): Mac {
  return readMac(b, o + 6);
}
