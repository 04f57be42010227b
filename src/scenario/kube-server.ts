// The program a Kubernetes pod runs in a scenario: a server on every container port (TCP or UDP, as the port's
// protocol says) that answers each client with `<pod name> <client address>:<client port>` — the peer address the
// server's socket got (getpeername for TCP, recvfrom's address for UDP) — so a step can tell which endpoint served
// it and whether the connection arrived masqueraded. The peer is read at the pod's door: a hook at INPUT, after
// every netfilter table (the last priority), looks at each TCP SYN and UDP datagram for one of the pod's ports and
// sets the listener's answer before the socket layer takes the packet, which happens in the same call.
// Limits: SCTP ports get no server (podwire has no SCTP sockets); one reply per connection, like every listener.

import type { NfHookOps } from '../netns/hooks.js';
import type { NetNs } from '../netns/netns.js';
import type { Listener } from '../netns/sockets.js';
import { formatIpv4, readU16 } from '../wire/addr.js';
import { IPPROTO_TCP, IPPROTO_UDP, ipHeaderLen, ipProto, ipSrc } from '../wire/ipv4.js';
import { TCP_ACK, TCP_SYN } from '../wire/tcp.js';

/** After NF_IP_PRI_NAT_SRC (100) and everything else a table registers at INPUT. */
const AFTER_NETFILTER = 0x7fffffff;

export interface PodPort {
  proto: 'tcp' | 'udp';
  port: number;
}

export interface PodReply {
  pod: string;
  /** The client address and port the pod's server saw. */
  peer: string;
  peerPort: number;
}

const enc = new TextEncoder();

/** What a pod's server answers. */
export function podReplyText(pod: string, peer: string, peerPort: number): string {
  return `${pod} ${peer}:${peerPort}`;
}

/** A reply payload read back; undefined when it is not a pod server's answer. */
export function parsePodReply(text: string | undefined): PodReply | undefined {
  const m = /^(\S+) (\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(text ?? '');
  return m ? { pod: m[1]!, peer: m[2]!, peerPort: Number(m[3]) } : undefined;
}

/**
 * Starts the pod's servers in its namespace. Throws (with the socket layer's message) when two containers claim
 * the same port and protocol.
 */
export function startPodServers(ns: NetNs, pod: string, ports: readonly PodPort[]): Listener[] {
  const listeners = ports.map((p) => ns.sockets.listen(p.proto, p.port, enc.encode(pod), 0));
  if (listeners.length === 0) return listeners;
  const ops: NfHookOps = {
    hook: 'INPUT',
    priority: AFTER_NETFILTER,
    name: `pod-server ${pod}`,
    fn: (skb) => {
      const b = skb.buf;
      const proto = ipProto(b, skb.nh);
      if (proto !== IPPROTO_TCP && proto !== IPPROTO_UDP) return 'accept';
      const l4 = skb.nh + ipHeaderLen(b, skb.nh);
      if (proto === IPPROTO_TCP && (b[l4 + 13]! & (TCP_SYN | TCP_ACK)) !== TCP_SYN) return 'accept';
      const name = proto === IPPROTO_TCP ? 'tcp' : 'udp';
      const dport = readU16(b, l4 + 2);
      const l = listeners.find((x) => x.proto === name && x.port === dport);
      if (l) l.reply = enc.encode(podReplyText(pod, formatIpv4(ipSrc(b, skb.nh)), readU16(b, l4)));
      return 'accept';
    },
  };
  ns.hooks.register(ops);
  return listeners;
}
