// A flannel VXLAN cluster at scale: 200 nodes on one underlay segment (192.168.0.0/16), flanneld on each (vxlan,
// VNI 1, leases allocated in node order from 10.244.0.0/16), and 30 pods per node started through the flannel CNI
// plugin (delegating to bridge + host-local), built through the same scenario loader and cluster builder as
// `podwire run`. Then one ping (echo request and reply) from the first pod of every node to the first pod of
// every other node — 200 × 199 ordered pairs — so every node's FDB, neighbour and route entries for every other
// node are used. Tracing and capture off. Reports build time, pings and frames per second (a frame = a device
// receiving a frame, underlay ARP floods included) and the heap after a forced GC and the peak RSS. Run with
// --expose-gc. NODES and PODS_PER_NODE override the size. Prints figures only.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ping } from '../src/netns/ping.js';
import { loadScenario } from '../src/scenario/loader.js';
import { buildScenario, runStep, scenarioNs } from '../src/scenario/runner.js';

const NODES = Number(process.env.NODES ?? 200);
const PODS_PER_NODE = Number(process.env.PODS_PER_NODE ?? 30);

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(1);
}

function scenarioText(): string {
  const lines = [
    'name: flannel cluster bench',
    'seed: 1',
    'cluster:',
    '  nodes:',
    ...Array.from(
      { length: NODES },
      (_, n) => `    - { name: n${n}, address: 192.168.${(n + 1) >> 8}.${(n + 1) & 255}/16 }`,
    ),
    '  flannel:',
    '    netConf: \'{ "Network": "10.244.0.0/16", "Backend": { "Type": "vxlan" } }\'',
    '  pods:',
  ];
  for (let p = 0; p < PODS_PER_NODE; p++)
    for (let n = 0; n < NODES; n++) lines.push(`    - { name: p${n}-${p}, node: n${n} }`);
  return `${lines.join('\n')}\n`;
}

function totalRx(k: ReturnType<typeof buildScenario>): number {
  let n = 0;
  for (const ns of k.namespaces.values()) for (const d of ns.devs.values()) n += d.stats.rxPackets;
  return n;
}

function main(): void {
  globalThis.gc?.();
  const dir = mkdtempSync(join(tmpdir(), 'podwire-bench-'));
  const file = join(dir, 'cluster.yaml');
  writeFileSync(file, scenarioText());
  let t0 = performance.now();
  const sc = loadScenario(file);
  const k = buildScenario(sc, { tracing: false });
  const buildMs = performance.now() - t0;
  rmSync(dir, { recursive: true, force: true });
  globalThis.gc?.();
  const heapBuilt = process.memoryUsage().heapUsed;

  // First pods' addresses: host-local hands out .2 first on every node's lease.
  const firstPods = Array.from({ length: NODES }, (_, n) => scenarioNs(k, `p${n}-0`)!);
  const addrs = firstPods.map((ns) => {
    const a = ns.addrsOf(ns.dev('eth0'))[0];
    if (!a) throw new Error(`${ns.name} has no address`);
    return a.addr;
  });
  const rx0 = totalRx(k);
  let ok = 0;
  let sent = 0;
  t0 = performance.now();
  for (let a = 0; a < NODES; a++)
    for (let b = 0; b < NODES; b++) {
      if (a === b) continue;
      const probe = ping(firstPods[a]!, addrs[b]!, { count: 1, waitNs: 4e9 });
      runStep(k, probe);
      sent++;
      if (probe.outcome.result === 'reachable') ok++;
    }
  const pingMs = performance.now() - t0;
  const frames = totalRx(k) - rx0;
  globalThis.gc?.();
  const mem = process.memoryUsage();
  const node0 = scenarioNs(k, 'n0')!;
  const flannel = node0.devs.get('flannel.1');

  console.log(`flannel VXLAN cluster: ${NODES} nodes × ${PODS_PER_NODE} pods (${NODES * PODS_PER_NODE} pods)`);
  console.log(`  build (load + underlay + flanneld + CNI ADD of every pod): ${(buildMs / 1000).toFixed(2)} s`);
  console.log(
    `  namespaces ${k.namespaces.size}; n0 routes ${node0.fib.table(254).length}, flannel.1 present: ${!!flannel}`,
  );
  console.log(
    `  pings first pod → first pod of every other node: ${sent} (${ok} answered) in ${(pingMs / 1000).toFixed(2)} s`,
  );
  console.log(`  ${Math.round((sent / pingMs) * 1000)} pings/s, ${Math.round((frames / pingMs) * 1000)} frames/s`);
  console.log(
    `  heap after build ${mib(heapBuilt)} MiB, after pings ${mib(mem.heapUsed)} MiB; peak RSS ${mib(process.resourceUsage().maxRSS * 1024)} MiB`,
  );
  if (ok !== sent) {
    console.error(`  ${sent - ok} pings were not answered`);
    process.exitCode = 1;
  }
}

main();
