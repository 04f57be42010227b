// Structured trace events: one record per decision a packet meets (a device it crosses, a route lookup, a
// neighbour or FDB decision, a socket delivery, a drop with its reason). Modelled on the kernel's tracepoints and
// `iptables -j TRACE`: the timeline explains why a packet went where it went. Extensions (netfilter, VXLAN) add
// event kinds by augmenting `TraceKinds` instead of editing this file, so the core never imports them.

import type { Nanos } from '../sim/events.js';

/** Why a packet was dropped. Kernel SKB_DROP_REASON_* names where one exists, else a name in the same spirit. */
export type DropReason =
  | 'NO_ROUTE'
  | 'BLACKHOLE'
  | 'UNREACHABLE_ROUTE'
  | 'PROHIBIT_ROUTE'
  | 'TTL_EXPIRED'
  | 'FORWARDING_DISABLED'
  | 'NEIGH_FAILED'
  | 'NEIGH_QUEUEFULL'
  | 'NETFILTER_DROP'
  | 'DEV_DOWN'
  | 'NO_CARRIER'
  | 'OTHERHOST'
  | 'IP_CSUM'
  | 'IP_INHDR'
  | 'IP_NOPROTO'
  | 'NO_SOCKET'
  | 'MARTIAN_SOURCE'
  | 'PKT_TOO_BIG'
  | 'UNHANDLED_PROTO'
  | 'BRIDGE_SAME_PORT'
  | 'BRIDGE_PORT_DOWN'
  | 'TCP_INVALID'
  | 'ARP_NOT_FOR_US'
  | 'ICMP_RATELIMIT'
  | 'VXLAN_INVALID_HDR'
  | 'VXLAN_VNI_NOT_FOUND'
  | 'VXLAN_NO_REMOTE'
  | 'VXLAN_ENTRY_EXISTS'
  | 'LOCAL_MAC'
  | 'MAC_INVALID_SOURCE'
  | 'PKT_TOO_SMALL'
  | 'LOOP_LIMIT'
  | 'DEV_DISCARD';

export interface TraceBase {
  /** Virtual time in ns. */
  t: Nanos;
  /** Global order of the event in the run. */
  seq: number;
  /** Packet id (a new id for every packet the stack creates; a forwarded packet keeps its id). */
  pkt: number;
  /** Namespace where the event happened. */
  ns: string;
  /** Index of the scenario step that caused it (-1 during setup). */
  step: number;
}

/**
 * Event kinds. Extensions augment this interface:
 *   declare module '../trace/events.js' { interface TraceKinds { hook: {...} } }
 */
export interface TraceKinds {
  /** A frame seen by tcpdump on a device: `rx` when received, `tx` when transmitted. */
  dev: {
    dir: 'rx' | 'tx';
    dev: string;
    len: number;
    summary: string;
    /** On `rx`: the device that put the frame on the link (a veth's peer), for drawing arrows. */
    from?: { ns: string; dev: string };
  };
  /** Entry into a kernel stage (ipRcv, ipForward, ipLocalDeliver, ipOutput, brHandleFrame, arpRcv, …). */
  stage: { stage: string; dev?: string; detail?: string };
  /** A routing decision: the route chosen, as `ip route get` would print it. */
  route: { dst: string; result: string };
  /** A neighbour-table decision. */
  neigh: {
    dev: string;
    ip: string;
    action: 'hit' | 'resolve' | 'queue' | 'update' | 'failed' | 'reply';
    state: string;
    mac?: string;
  };
  /** A bridge forwarding-database decision. */
  fdb: {
    bridge: string;
    mac: string;
    action: 'learn' | 'forward' | 'flood' | 'local' | 'age' | 'move';
    port?: string;
  };
  /** Socket layer: delivery to a listener, replies, TCP state changes. */
  sock: { proto: 'tcp' | 'udp' | 'icmp'; action: string; detail: string };
  /** The stack generated an ICMP error or reply. */
  icmp: { action: 'send'; kind: string; to: string; reason: string };
  /** The packet was dropped. */
  drop: { reason: DropReason; detail: string; dev?: string };
}

export type TraceKind = keyof TraceKinds;

export type TraceEvent = { [K in TraceKind]: TraceBase & { type: K } & TraceKinds[K] }[TraceKind];

export type TraceEventOf<K extends TraceKind> = TraceBase & { type: K } & TraceKinds[K];
