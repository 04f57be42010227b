// Memory of a large topology: one node with 1,000 pod namespaces (veth pairs on bridges of 250 ports, addresses,
// default routes), after every pod has pinged its gateway so ARP and FDB tables are filled. Reports the heap the
// topology holds after a full GC and the process's peak resident set size. Run in its own process.

import { performance } from 'node:perf_hooks';
import { topology } from '../src/index.js';
import { ping } from '../src/netns/ping.js';
import { parseIpv4 } from '../src/wire/addr.js';

function memory(pods: number): void {
  globalThis.gc?.();
  const base = process.memoryUsage().heapUsed;
  const lines: string[] = [];
  const bridges = Math.ceil(pods / 250);
  for (let b = 0; b < bridges; b++)
    lines.push(`ip link add br${b} type bridge`, `ip link set br${b} up`, `ip addr add 10.${b}.0.1/16 dev br${b}`);
  for (let i = 0; i < pods; i++) {
    const b = Math.floor(i / 250);
    const host = i % 250;
    lines.push(
      `ip netns add p${i}`,
      `ip link add v${i} type veth peer name eth0 netns p${i}`,
      `ip link set v${i} master br${b}`,
      `ip link set v${i} up`,
      `ip -n p${i} link set lo up`,
      `ip -n p${i} link set eth0 up`,
      `ip -n p${i} addr add 10.${b}.${Math.floor(host / 200)}.${(host % 200) + 2}/16 dev eth0`,
      `ip -n p${i} route add default via 10.${b}.0.1`,
    );
  }
  const t0 = performance.now();
  const k = topology(lines, { tracing: false });
  const ms = performance.now() - t0;
  // Every pod pings its gateway once so ARP and FDB tables are populated.
  for (let i = 0; i < pods; i++)
    ping(k.netns(`p${i}`), parseIpv4(`10.${Math.floor(i / 250)}.0.1`)!, { count: 1, waitNs: 1e9 });
  k.run();
  globalThis.gc?.();
  const heap = process.memoryUsage().heapUsed - base;
  const rss = process.resourceUsage().maxRSS * 1024;
  console.log(
    `${pods} pod namespaces on ${bridges} bridges: built in ${ms.toFixed(0)} ms; heap ${(heap / 2 ** 20).toFixed(1)} MiB, peak RSS ${(rss / 2 ** 20).toFixed(1)} MiB (${k.namespaces.size} namespaces)`,
  );
}

memory(Number(process.env.PODS ?? 1000));
