// One conntrack entry (struct nf_conn): the original and reply tuples, the IPS_* status bits, ct mark, absolute
// expiry in virtual time, and the per-protocol private state (TCP window tracking, UDP stream timer). An entry is
// unconfirmed (not in the table, invisible to `conntrack -L`) from the first packet until that packet leaves
// POSTROUTING or INPUT; NAT may rewrite its reply tuple only while it is unconfirmed.

import type { Nanos } from '../../sim/events.js';
import type { CtEntry, CtTuple } from '../types.js';
import { TCP_STATE_NAMES, type TcpCt } from './tcp_state.js';

export type DirIndex = 0 | 1;
export const DIR_ORIGINAL: DirIndex = 0;
export const DIR_REPLY: DirIndex = 1;

export class Conn implements CtEntry {
  status = {
    confirmed: false,
    seenReply: false,
    assured: false,
    srcNat: false,
    dstNat: false,
    srcNatDone: false,
    dstNatDone: false,
  };
  mark = 0;
  timeoutAt: Nanos;
  /** Removed from the table (expired, deleted, or killed by the TCP tracker); a packet may still refer to it. */
  dying = false;
  /** TCP private state (ct->proto.tcp). */
  tcp: TcpCt | null = null;
  /** UDP: until this instant a reply does not make the flow a stream (ct->proto.udp.stream_ts). */
  udpStreamTs: Nanos = 0;
  /** MASQUERADE: ifindex of the device the source address was taken from (nf_conn_nat.masq_index). */
  masqIndex = 0;

  constructor(
    readonly id: number,
    public original: CtTuple,
    public reply: CtTuple,
    readonly createdAt: Nanos,
  ) {
    this.timeoutAt = createdAt;
  }

  tuple(dir: DirIndex): CtTuple {
    return dir === DIR_ORIGINAL ? this.original : this.reply;
  }

  get tcpState(): string | undefined {
    return this.tcp ? TCP_STATE_NAMES[this.tcp.state] : undefined;
  }

  expired(now: Nanos): boolean {
    return this.timeoutAt <= now;
  }
}
