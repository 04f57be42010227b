// kube-proxy at scale on one node: 10,000 ClusterIP Services with 10 endpoints each (100,000 endpoints, so upstream's
// "large cluster mode": no per-endpoint comments). Reports the first full sync (payload generation plus loading it
// with iptables-restore --noflush into the node's netfilter, split into the two), the heap the loaded ruleset holds,
// incremental syncs after one endpoint of one Service changes (median and range of eleven), a second full sync of the
// same state, a full sync on fresh nodes once the code is compiled (the first sync in a process also compiles it),
// and the per-packet cost to a cluster IP through PREROUTING and POSTROUTING: the first packet of a new
// connection (the nat table walk and DNAT) to a Service walked before and to one never walked (whose chains' rules,
// loaded as text, are built then), and a later packet of an established connection. Targets: full sync < 2 s,
// incremental < 100 ms. Prints figures only; run with --expose-gc.

import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { netfilterOf } from '../src/iptables/index.js';
import type { NfState } from '../src/netns/hooks.js';
import { addAddr } from '../src/netns/ifaddr.js';
import { Kernel } from '../src/netns/kernel.js';
import { createDummy, linkSetUp } from '../src/netns/link.js';
import type { NetNs } from '../src/netns/netns.js';
import type { Skb } from '../src/netns/skb.js';
import type { EndpointSlice, Service } from '../src/proxy/model.js';
import { Proxier } from '../src/proxy/proxier.js';
import { generateRuleset } from '../src/proxy/ruleset.js';
import { TCP_ACK, TCP_SYN } from '../src/wire/tcp.js';
import { tcpPacket } from './tcp-packet.js';

const vip = (i: number): string => `10.96.${i >> 8}.${i & 255}`;
const vipNum = (i: number): number => (0x0a600000 + i) >>> 0;

function objects(services: number, perService: number): { svcs: Service[]; slices: EndpointSlice[] } {
  const svcs: Service[] = [];
  const slices: EndpointSlice[] = [];
  for (let i = 0; i < services; i++) {
    const name = `svc-${i}`;
    svcs.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: 'default' },
      spec: {
        type: 'ClusterIP',
        clusterIP: vip(i),
        ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }],
      },
    });
    slices.push(slice(i, perService, 0));
  }
  return { svcs, slices };
}

function slice(i: number, perService: number, shift: number): EndpointSlice {
  const endpoints = [];
  for (let e = 0; e < perService; e++) {
    const n = i * perService + e + shift;
    endpoints.push({ addresses: [`10.${128 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`], nodeName: `node-${n % 50}` });
  }
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `svc-${i}-abcde`, namespace: 'default', labels: { 'kubernetes.io/service-name': `svc-${i}` } },
    addressType: 'IPv4',
    endpoints,
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
}

function node(): NetNs {
  const k = new Kernel({ seed: 1 });
  k.tracer.tracing = false;
  const ns = k.addNetns('node');
  const eth0 = createDummy(ns, 'eth0');
  linkSetUp(eth0);
  linkSetUp(ns.lo);
  addAddr(ns, eth0, 0xc0a80002, 24);
  return ns;
}

function packets(ns: NetNs, services: number): { cold: number; first: number; est: number } {
  const eth0 = ns.dev('eth0');
  const pre: NfState = { ns, hook: 'PREROUTING', inDev: eth0, outDev: null, bridged: false };
  const post: NfState = { ns, hook: 'POSTROUTING', inDev: eth0, outDev: eth0, bridged: false };
  const pass = (s: Skb) => {
    ns.hooks.run('PREROUTING', s, pre);
    ns.hooks.run('POSTROUTING', s, post);
  };
  const time = (pkts: Skb[]): number => {
    const t0 = performance.now();
    for (const s of pkts) pass(s);
    return ((performance.now() - t0) * 1e6) / pkts.length;
  };
  // The first `warm` Services (2,000, or half when fewer) are walked first (JIT warm-up, and their chains built);
  // the rest never before.
  const warm = Math.min(2000, Math.ceil(services / 2));
  for (let i = 0; i < 2000; i++) pass(tcpPacket(ns, 0x0a000002, 1024 + i, vipNum(i % warm), TCP_SYN));
  const cold: Skb[] = [];
  for (let i = warm; i < Math.min(services, warm + 5000); i++)
    cold.push(tcpPacket(ns, 0x0a000003, 1024 + (i & 16383), vipNum(i), TCP_SYN));
  const N = 20_000;
  const first: Skb[] = [];
  for (let i = 0; i < N; i++)
    first.push(tcpPacket(ns, (0x0a000010 + (i >> 14)) >>> 0, 1024 + (i & 16383), vipNum((i * 7919) % warm), TCP_SYN));
  const coldNs = cold.length > 0 ? time(cold) : 0;
  const firstNs = time(first);
  pass(tcpPacket(ns, 0x0a0000fe, 5555, vipNum(services - 1), TCP_SYN));
  const est: Skb[] = [];
  for (let i = 0; i < N; i++) est.push(tcpPacket(ns, 0x0a0000fe, 5555, vipNum(services - 1), TCP_ACK));
  return { cold: coldNs, first: firstNs, est: time(est) };
}

export function measure(services: number, perService: number): void {
  const { svcs, slices } = objects(services, perService);
  globalThis.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const ns = node();
  const proxier = new Proxier({ nodeName: 'node-0', nodeIPs: ['192.168.0.2'], clusterCIDR: '10.128.0.0/9', ns });
  let t0 = performance.now();
  for (const s of svcs) proxier.onServiceAdd(s);
  for (const s of slices) proxier.onEndpointSliceAdd(s);
  const track = performance.now() - t0;
  t0 = performance.now();
  const full = proxier.syncProxyRules();
  const fullMs = performance.now() - t0;
  if (full.error) throw full.error;
  // The generation half alone, on the same state (a second, identical payload).
  t0 = performance.now();
  const gen = generateRuleset(proxier.config, {
    services: proxier.services,
    endpoints: proxier.endpoints,
    fullSync: true,
    changed: new Set(),
    existingNatChains: null,
    nodePortIPs: [],
  });
  const genMs = performance.now() - t0;
  globalThis.gc?.();
  const heap = process.memoryUsage().heapUsed - heap0;
  const rules = full.filterRules + full.natRules;

  // Incremental syncs, each after one endpoint of another Service changed: the median and range are reported
  // (the first ones after the full sync also run code for the first time).
  const incs: number[] = [];
  let inc = full;
  for (let k = 0; k < 11; k++) {
    const target = (4321 + k * 997) % services;
    const changed = slice(target, perService, 0);
    changed.endpoints[3] = { addresses: [`10.250.0.${k + 1}`], nodeName: 'node-9' };
    proxier.onEndpointSliceUpdate(slices[target]!, changed);
    t0 = performance.now();
    inc = proxier.syncProxyRules();
    incs.push(performance.now() - t0);
    if (inc.error) throw inc.error;
  }
  const sorted = [...incs].sort((a, b) => a - b);
  const incMs = sorted[5]!;
  // A full sync of the same state again (kube-proxy makes one every hour, and after any failure).
  proxier.forceFullSync();
  t0 = performance.now();
  const again = proxier.syncProxyRules();
  const againMs = performance.now() - t0;
  if (again.error) throw again.error;
  const natChains = netfilterOf(ns).state.table('nat').chains.size;
  const pk = process.env.NOPKT ? { cold: 0, first: 0, est: 0 } : packets(ns, services);

  const f = (n: number) => n.toFixed(0).padStart(6);
  console.log(
    `${services} services × ${perService} endpoints: ${rules} rules, ${natChains} nat chains, payload ${(full.payload.length / 1e6).toFixed(1)} MB`,
  );
  console.log(`  change tracking      ${f(track)} ms`);
  console.log(
    `  full sync            ${f(fullMs)} ms  (generate ${gen.payload.length === full.payload.length ? f(genMs).trim() : '?'} ms, rest is iptables-restore)  target < 2000`,
  );
  console.log(`  heap after full sync ${f(heap / 1048576)} MB`);
  console.log(
    `  incremental sync     ${f(incMs)} ms  median of 11 (${sorted[0]!.toFixed(0)}–${sorted[10]!.toFixed(0)} ms, in order ${incs.map((x) => x.toFixed(0)).join(' ')}; ${inc.natRules} nat rules written)  target < 100`,
  );
  console.log(`  full sync again      ${f(againMs)} ms`);
  console.log(
    `  first packet         ${f(pk.first)} ns to a Service walked before; ${pk.cold.toFixed(0)} ns to one never walked (builds its chains' rules)`,
  );
  console.log(`  established packet   ${f(pk.est)} ns`);
}

/**
 * A full sync of the same cluster on a fresh node (an empty ruleset, a new Proxier) later in the same process: the
 * engine's and the proxy's code is compiled by then, which the first sync in a process pays for.
 */
function warmFullSync(services: number, perService: number): number {
  const { svcs, slices } = objects(services, perService);
  globalThis.gc?.();
  const ns = node();
  const proxier = new Proxier({ nodeName: 'node-0', nodeIPs: ['192.168.0.2'], clusterCIDR: '10.128.0.0/9', ns });
  for (const s of svcs) proxier.onServiceAdd(s);
  for (const s of slices) proxier.onEndpointSliceAdd(s);
  const t0 = performance.now();
  const r = proxier.syncProxyRules();
  const ms = performance.now() - t0;
  if (r.error) throw r.error;
  return ms;
}

function main(): void {
  const only = Number(process.env.NSVC ?? 0);
  const services = only || 10_000;
  measure(services, 10);
  const warm = [warmFullSync(services, 10), warmFullSync(services, 10)];
  console.log(
    `  full sync, warm     ${warm.map((w) => w.toFixed(0).padStart(6)).join(' ')} ms  (fresh nodes later in the process, code compiled)  target < 2000`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
