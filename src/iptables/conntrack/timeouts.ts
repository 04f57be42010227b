// Conntrack timeouts (net.netfilter.nf_conntrack_*_timeout*), in seconds, with the kernel's defaults: TCP per state
// from nf_conntrack_proto_tcp.c (SYN_SENT 120, ESTABLISHED 5 days, TIME_WAIT 120, CLOSE 10, …, plus the shorter
// `retrans` and `unacknowledged` timers that replace a long timeout while data is outstanding), UDP 30 s until the
// flow is a stream (`udp_timeout_stream` 120 s), ICMP 30 s and 600 s for every protocol tracked generically.

import { NS_PER_S } from '../../sim/events.js';

export interface CtTimeouts {
  tcpSynSent: number;
  tcpSynRecv: number;
  tcpEstablished: number;
  tcpFinWait: number;
  tcpCloseWait: number;
  tcpLastAck: number;
  tcpTimeWait: number;
  tcpClose: number;
  tcpSynSent2: number;
  tcpMaxRetrans: number;
  tcpUnacknowledged: number;
  udp: number;
  udpStream: number;
  icmp: number;
  generic: number;
}

export const DEFAULT_TIMEOUTS: Readonly<CtTimeouts> = {
  tcpSynSent: 120,
  tcpSynRecv: 60,
  tcpEstablished: 432000,
  tcpFinWait: 120,
  tcpCloseWait: 60,
  tcpLastAck: 30,
  tcpTimeWait: 120,
  tcpClose: 10,
  tcpSynSent2: 120,
  tcpMaxRetrans: 300,
  tcpUnacknowledged: 300,
  udp: 30,
  udpStream: 120,
  icmp: 30,
  generic: 600,
};

export function secs(s: number): number {
  return s * NS_PER_S;
}
