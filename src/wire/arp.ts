// ARP for IPv4 over Ethernet (RFC 826), the only combination Linux's arp_rcv accepts on an Ethernet device:
// hardware type 1, protocol 0x0800, address lengths 6 and 4. Requests and replies only; RARP and InARP opcodes
// parse (op is returned as is) but the emulator never sends them.

import { type Ipv4, type Mac, readMac, readU16, readU32, writeMac, writeU16, writeU32 } from './addr.js';
import { need, WireError } from './errors.js';
import { ETH_P_IP } from './ethernet.js';

export const ARPHRD_ETHER = 1;
export const ARPOP_REQUEST = 1;
export const ARPOP_REPLY = 2;
export const ARP_LEN = 28;

export interface ArpRepr {
  op: number;
  sha: Mac;
  spa: Ipv4;
  tha: Mac;
  tpa: Ipv4;
}

export function parseArp(b: Uint8Array, o: number): ArpRepr {
  need(b, o, ARP_LEN, 'arp');
  const htype = readU16(b, o);
  const ptype = readU16(b, o + 2);
  if (htype !== ARPHRD_ETHER) throw new WireError('arp', `ARP hardware type ${htype} is not Ethernet`);
  if (ptype !== ETH_P_IP) throw new WireError('arp', `ARP protocol type 0x${ptype.toString(16)} is not IPv4`);
  if (b[o + 4] !== 6 || b[o + 5] !== 4) {
    throw new WireError('arp', `ARP address lengths ${b[o + 4]}/${b[o + 5]} are not 6/4`);
  }
  return {
    op: readU16(b, o + 6),
    sha: readMac(b, o + 8),
    spa: readU32(b, o + 14),
    tha: readMac(b, o + 18),
    tpa: readU32(b, o + 24),
  };
}

export function emitArp(b: Uint8Array, o: number, r: ArpRepr): void {
  need(b, o, ARP_LEN, 'arp');
  writeU16(b, o, ARPHRD_ETHER);
  writeU16(b, o + 2, ETH_P_IP);
  b[o + 4] = 6;
  b[o + 5] = 4;
  writeU16(b, o + 6, r.op);
  writeMac(b, o + 8, r.sha);
  writeU32(b, o + 14, r.spa);
  writeMac(b, o + 18, r.tha);
  writeU32(b, o + 24, r.tpa);
}
