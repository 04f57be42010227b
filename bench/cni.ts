// Pod start-up through the full CNI chain at cluster scale: 100 node namespaces (a dummy eth0 with an address),
// netfilter on, each node's /etc/cni/net.d holding one conflist — bridge (cni0, isGateway, ipMasq) with host-local
// IPAM over the node's own /24, then portmap with no mappings — and 100 pods per node started as containerd does
// (new namespace, cni-loopback, then the pod network), tracing off. Reports the wall time of the 10,000 pod starts
// (total, mean, slowest 1% of single addPod calls, mean by pod index on its node to show a cost that grows with the
// pods already there), the heap after a forced GC and the peak RSS, the namespaces in the kernel and the devices and
// iptables rules on one node at the end, then the time to delete every pod of 10 nodes. Run with --expose-gc (the
// heap figure is otherwise not after a full GC). Prints figures only.

import { performance } from 'node:perf_hooks';
import { Node } from '../src/cni/node.js';
import { topology } from '../src/index.js';
import { enableNetfilter, iptablesSave } from '../src/iptables/index.js';

const NODES = Number(process.env.NODES ?? 100);
const PODS_PER_NODE = Number(process.env.PODS_PER_NODE ?? 100);
const DELETE_NODES = Math.min(10, NODES);

/** The node's pod network: bridge + host-local over 10.244.<node>.0/24, then portmap. */
function conflist(node: number): string {
  return JSON.stringify({
    cniVersion: '1.0.0',
    name: 'podnet',
    plugins: [
      {
        type: 'bridge',
        bridge: 'cni0',
        isGateway: true,
        ipMasq: true,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: `10.244.${node}.0/24` }]],
          routes: [{ dst: '0.0.0.0/0' }],
        },
      },
      { type: 'portmap', snat: true, capabilities: { portMappings: true } },
    ],
  });
}

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(1);
}

function main(): void {
  globalThis.gc?.();
  const heapBase = process.memoryUsage().heapUsed;
  const lines: string[] = [];
  for (let n = 0; n < NODES; n++)
    lines.push(
      `ip netns add node${n}`,
      `ip -n node${n} link set lo up`,
      `ip -n node${n} link add eth0 type dummy`,
      `ip -n node${n} addr add 192.168.${n >> 8}.${(n & 255) + 1}/16 dev eth0`,
      `ip -n node${n} link set eth0 up`,
    );
  let t0 = performance.now();
  const k = topology(lines, { tracing: false });
  enableNetfilter(k);
  const nodes: Node[] = [];
  for (let n = 0; n < NODES; n++) {
    const node = new Node(k, `node${n}`, { name: `node${n}` });
    node.writeConfig('10-podnet.conflist', conflist(n));
    nodes.push(node);
  }
  const buildMs = performance.now() - t0;

  // Nodes filled round-robin, so the i-th pod of every node starts at about the same point of the run.
  const single = new Float64Array(NODES * PODS_PER_NODE);
  const byIndex = new Float64Array(PODS_PER_NODE);
  t0 = performance.now();
  for (let p = 0; p < PODS_PER_NODE; p++)
    for (let n = 0; n < NODES; n++) {
      const s = performance.now();
      nodes[n]!.addPod(`pod-${p}`, { namespace: 'bench' });
      const d = performance.now() - s;
      single[p * NODES + n] = d;
      byIndex[p]! += d;
    }
  const startMs = performance.now() - t0;
  const pods = NODES * PODS_PER_NODE;
  const sorted = Float64Array.from(single).sort();
  const p99 = sorted[Math.floor(sorted.length * 0.99)]!;
  const slowest1 = sorted.subarray(Math.floor(sorted.length * 0.99));
  const slowest1Mean = slowest1.reduce((a, b) => a + b, 0) / slowest1.length;

  globalThis.gc?.();
  const heap = process.memoryUsage().heapUsed - heapBase;
  const rss = process.resourceUsage().maxRSS * 1024;
  const host = nodes[0]!.host;
  const save = iptablesSave(host);
  const rules = save.split('\n').filter((l) => l.startsWith('-A ')).length;
  const chains = save.split('\n').filter((l) => l.startsWith(':')).length;
  const namespaces = k.namespaces.size;
  const hostDevs = host.devices().length;

  t0 = performance.now();
  for (let n = 0; n < DELETE_NODES; n++)
    for (const pod of nodes[n]!.pods()) nodes[n]!.deletePod(pod.name, pod.namespace);
  const delMs = performance.now() - t0;
  const delPods = DELETE_NODES * PODS_PER_NODE;
  const rulesAfter = iptablesSave(host)
    .split('\n')
    .filter((l) => l.startsWith('-A ')).length;

  console.log(`${NODES} nodes built (namespaces, netfilter, conflists) in ${buildMs.toFixed(0)} ms`);
  console.log(
    `${pods} pods started (bridge+ipMasq, host-local /24, portmap, cni-loopback): ${startMs.toFixed(0)} ms total, ${(startMs / pods).toFixed(3)} ms per pod`,
  );
  console.log(
    `single addPod: median ${sorted[sorted.length >> 1]!.toFixed(3)} ms, p99 ${p99.toFixed(3)} ms, slowest 1% mean ${slowest1Mean.toFixed(3)} ms, max ${sorted[sorted.length - 1]!.toFixed(3)} ms`,
  );
  const deciles: string[] = [];
  const step = Math.max(1, Math.floor(PODS_PER_NODE / 10));
  for (let p = 0; p < PODS_PER_NODE; p += step) {
    let sum = 0;
    const end = Math.min(PODS_PER_NODE, p + step);
    for (let q = p; q < end; q++) sum += byIndex[q]!;
    deciles.push(`${p}-${end - 1}: ${(sum / ((end - p) * NODES)).toFixed(3)}`);
  }
  console.log(`mean addPod by pod index on its node (ms): ${deciles.join(', ')}`);
  console.log(
    `heap ${mib(heap)} MiB after GC${globalThis.gc ? '' : ' (no --expose-gc: not after a full GC)'}, peak RSS ${mib(rss)} MiB`,
  );
  console.log(
    `at the end: ${namespaces} namespaces; node0 has ${hostDevs} devices, ${rules} iptables rules in ${chains} chains`,
  );
  console.log(
    `deleted ${delPods} pods on ${DELETE_NODES} nodes in ${delMs.toFixed(0)} ms (${(delMs / delPods).toFixed(3)} ms per pod); node0 keeps ${rulesAfter} rules`,
  );
}

main();
