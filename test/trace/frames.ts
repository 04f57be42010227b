// Hand-built frames for capture tests: Ethernet II + IPv4 + ICMP echo, checksums computed here (RFC 1071) so a
// dissector that verifies them has something real to check.

/** RFC 1071 one's-complement sum of 16-bit words, complemented. */
export function inetChecksum(b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i + 1 < b.length; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (b.length % 2) sum += b[b.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export interface EchoSpec {
  srcMac: number[];
  dstMac: number[];
  srcIp: number[];
  dstIp: number[];
  type: 8 | 0;
  id: number;
  seq: number;
  ttl?: number;
  payloadLen?: number;
}

export function icmpEchoFrame(s: EchoSpec): Uint8Array {
  const payloadLen = s.payloadLen ?? 56;
  const icmpLen = 8 + payloadLen;
  const ipLen = 20 + icmpLen;
  const f = new Uint8Array(14 + ipLen);
  f.set(s.dstMac, 0);
  f.set(s.srcMac, 6);
  f[12] = 0x08;
  f[13] = 0x00;
  const ip = f.subarray(14, 34);
  ip[0] = 0x45;
  ip[2] = ipLen >> 8;
  ip[3] = ipLen & 255;
  ip[4] = 0x12;
  ip[5] = 0x34;
  ip[6] = 0x40; // DF, as Linux ping sends
  ip[8] = s.ttl ?? 64;
  ip[9] = 1;
  ip.set(s.srcIp, 12);
  ip.set(s.dstIp, 16);
  const ipSum = inetChecksum(ip);
  ip[10] = ipSum >> 8;
  ip[11] = ipSum & 255;
  const icmp = f.subarray(34);
  icmp[0] = s.type;
  icmp[4] = s.id >> 8;
  icmp[5] = s.id & 255;
  icmp[6] = s.seq >> 8;
  icmp[7] = s.seq & 255;
  for (let i = 0; i < payloadLen; i++) icmp[8 + i] = (i + 0x10) & 255;
  const icmpSum = inetChecksum(icmp);
  icmp[2] = icmpSum >> 8;
  icmp[3] = icmpSum & 255;
  return f;
}

export const A_MAC = [0x02, 0, 0, 0, 0, 0x0a];
export const B_MAC = [0x02, 0, 0, 0, 0, 0x0b];
export const A_IP = [10, 0, 0, 1];
export const B_IP = [10, 0, 0, 2];

export const request = (seq: number) =>
  icmpEchoFrame({ srcMac: A_MAC, dstMac: B_MAC, srcIp: A_IP, dstIp: B_IP, type: 8, id: 1, seq });
export const reply = (seq: number) =>
  icmpEchoFrame({ srcMac: B_MAC, dstMac: A_MAC, srcIp: B_IP, dstIp: A_IP, type: 0, id: 1, seq });

export const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
