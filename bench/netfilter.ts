// Netfilter cost per packet through a kube-proxy-shaped ruleset (nat KUBE-SERVICES → KUBE-SVC-… → KUBE-SEP-… with
// `-m statistic` endpoint selection, KUBE-MARK-MASQ, KUBE-POSTROUTING, filter KUBE-FORWARD) of 10, 1,000 and 10,000
// ClusterIP services with two endpoints each. "First packet": a TCP SYN of a new connection to a random service,
// through PREROUTING (raw, conntrack, mangle, nat/DNAT) and POSTROUTING (nat/SNAT, conntrack confirm). "Established":
// a later packet of one confirmed connection. The rules keep iptables' first-match order; the chain index makes
// the walk of KUBE-SERVICES touch only the rules keyed on the packet's destination. Prints figures only.

import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { topology } from '../src/index.js';
import { enableNetfilter, iptablesRestore, iptablesSave } from '../src/iptables/index.js';
import type { NfState } from '../src/netns/hooks.js';
import type { Skb } from '../src/netns/skb.js';
import { formatIpv4 } from '../src/wire/addr.js';
import { TCP_ACK, TCP_SYN } from '../src/wire/tcp.js';
import { tcpPacket } from './tcp-packet.js';

function vip(i: number): number {
  return (0x0a600000 + 10 + i) >>> 0; // 10.96.0.10 + i
}

function endpoint(i: number, e: number): number {
  return (0x0af40000 + ((i * 2 + e) % 65000) + 2) >>> 0; // 10.244.x.y
}

function hash(s: string): string {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return h.toString(36).toUpperCase().padStart(7, '0').slice(0, 16).padEnd(16, 'X');
}

/** A ruleset shaped like kube-proxy's iptables-restore payload. */
export function kubeProxyRules(services: number): string {
  const nat: string[] = [
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':INPUT ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    ':KUBE-MARK-MASQ - [0:0]',
    ':KUBE-NODEPORTS - [0:0]',
    ':KUBE-POSTROUTING - [0:0]',
    ':KUBE-SERVICES - [0:0]',
  ];
  const rules: string[] = [
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
    '-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000',
    '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
    '-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0',
    '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
  ];
  for (let i = 0; i < services; i++) {
    const name = `default/svc-${i}:http`;
    const svc = `KUBE-SVC-${hash(name)}`;
    const ip = formatIpv4(vip(i));
    nat.push(`:${svc} - [0:0]`);
    rules.push(
      `-A KUBE-SERVICES -d ${ip}/32 -p tcp -m comment --comment "${name} cluster IP" -m tcp --dport 80 -j ${svc}`,
      `-A ${svc} ! -s 10.244.0.0/16 -d ${ip}/32 -p tcp -m comment --comment "${name} cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ`,
    );
    for (let e = 0; e < 2; e++) {
      const ep = formatIpv4(endpoint(i, e));
      const sep = `KUBE-SEP-${hash(`${name}${ep}`)}`;
      nat.push(`:${sep} - [0:0]`);
      rules.push(
        e === 0
          ? `-A ${svc} -m comment --comment "${name} -> ${ep}:8080" -m statistic --mode random --probability 0.50000000000 -j ${sep}`
          : `-A ${svc} -m comment --comment "${name} -> ${ep}:8080" -j ${sep}`,
        `-A ${sep} -s ${ep}/32 -m comment --comment "${name}" -j KUBE-MARK-MASQ`,
        `-A ${sep} -p tcp -m comment --comment "${name}" -m tcp -j DNAT --to-destination ${ep}:8080`,
      );
    }
  }
  rules.push(
    '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
  );
  const filter = [
    '*filter',
    ':INPUT ACCEPT [0:0]',
    ':FORWARD ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':KUBE-FORWARD - [0:0]',
    '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
    '-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP',
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT',
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    'COMMIT',
  ];
  return `${[...filter, ...nat, ...rules, 'COMMIT'].join('\n')}\n`;
}

function measure(services: number): { first: number; est: number; rules: number } {
  const k = topology(['ip link add eth0 type dummy', 'ip link set eth0 up', 'ip addr add 10.0.0.1/24 dev eth0'], {
    tracing: false,
  });
  enableNetfilter(k);
  const ns = k.root;
  iptablesRestore(ns, kubeProxyRules(services));
  const rules = iptablesSave(ns)
    .split('\n')
    .filter((l) => l.startsWith('-A ')).length;
  const eth0 = ns.dev('eth0');
  const pre: NfState = { ns, hook: 'PREROUTING', inDev: eth0, outDev: null, bridged: false };
  const post: NfState = { ns, hook: 'POSTROUTING', inDev: eth0, outDev: eth0, bridged: false };
  const client = 0x0a000002;
  const N = 20_000;
  // Warm up.
  for (let i = 0; i < 2000; i++) {
    const s = tcpPacket(ns, client, 1024 + (i % 30000), vip(i % services), TCP_SYN);
    ns.hooks.run('PREROUTING', s, pre);
    ns.hooks.run('POSTROUTING', s, post);
  }
  const pkts: Skb[] = [];
  for (let i = 0; i < N; i++)
    pkts.push(tcpPacket(ns, (client + 1 + (i >> 14)) >>> 0, 1024 + (i & 16383), vip((i * 7919) % services), TCP_SYN));
  let t0 = performance.now();
  for (const s of pkts) {
    ns.hooks.run('PREROUTING', s, pre);
    ns.hooks.run('POSTROUTING', s, post);
  }
  const first = ((performance.now() - t0) * 1e6) / N;
  // One confirmed connection, then its later packets.
  const est: Skb[] = [];
  const open = tcpPacket(ns, 0x0a0000fe, 5555, vip(services - 1), TCP_SYN);
  ns.hooks.run('PREROUTING', open, pre);
  ns.hooks.run('POSTROUTING', open, post);
  for (let i = 0; i < N; i++) est.push(tcpPacket(ns, 0x0a0000fe, 5555, vip(services - 1), TCP_ACK));
  t0 = performance.now();
  for (const s of est) {
    ns.hooks.run('PREROUTING', s, pre);
    ns.hooks.run('POSTROUTING', s, post);
  }
  const estNs = ((performance.now() - t0) * 1e6) / N;
  return { first, est: estNs, rules };
}

function main(): void {
  const only = Number(process.env.NSVC ?? 0);
  if (only) {
    measure(only);
    console.log(only, measure(only));
    return;
  }
  measure(100); // JIT warm-up run, not reported
  const results = [10, 1000, 10000].map((n) => ({ n, ...measure(n) }));
  for (const r of results)
    console.log(
      `${String(r.n).padStart(6)} services (${String(r.rules).padStart(6)} rules): first packet ${r.first.toFixed(0).padStart(6)} ns, established ${r.est.toFixed(0).padStart(5)} ns`,
    );
  const ratio = results[2]!.first / results[0]!.first;
  console.log(`first-packet cost at 10,000 services / at 10 services: ${ratio.toFixed(2)}× (target ≤ 3×)`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
