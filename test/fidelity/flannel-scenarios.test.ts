// Fidelity: the two-node flannel VXLAN scenarios replayed in real Linux must agree with the emulator step by step —
// outcome, source and TTL of the reply or ICMP error, kind of ICMP error, the server's answer — and on what crosses
// the underlay: the frames on node1's underlay port (`veth-node1` in the initial namespace) during each step,
// compared through underlay-frames.ts (outer IPv4 length, TTL, DF and protocol; UDP port, length and checksum;
// VXLAN flags and VNI; inner frame length and MACs, inner TTL, length and fragmentation; which packets share a UDP
// source port, and that every port is in 32768–60999). Each sender's packets are compared in order; the
// interleaving of the two nodes' packets only for ping steps, where every packet answers the one before it — in a
// TCP exchange the server's data and FIN and the client's ACKs cross each other, so which node's packet comes
// first is timing. The real cluster is lab-cluster.ts's, with flanneld's share taken from the emulated run so that
// both carry the same MAC addresses (startRealFlannel: each node's flanneld `ip`/`bridge` operations replayed
// verbatim — the flannel.1 device with its MAC, address, neighbour, FDB and route entries — and its FLANNEL-*
// rules from the emulated node's iptables-save loaded with iptables-restore), then each pod attached by the real
// bridge plugin with the delegate configuration the emulated flannel CNI plugin saved for that container (there is
// no flannel plugin binary here), then portmap as the list says. Transmit checksum offload is turned off on the
// nodes' eth0 (ethtool), so the capture holds the checksums the wire would carry rather than the pseudo-header sum
// a veth passes along (NOTES.md); it does not change what is sent otherwise.
// Root only; skipped with a message when the lab, the plugins or ethtool are missing.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Kernel } from '../../src/netns/kernel.js';
import { VxlanDev } from '../../src/netns/vxlan.js';
import { loadScenario } from '../../src/scenario/loader.js';
import { buildScenario, playStep, type StepOutcome, scenarioNs } from '../../src/scenario/runner.js';
import type { Scenario } from '../../src/scenario/types.js';
import { runKernelLab } from '../../tools/kernel-lab/index.js';
import {
  buildRealCluster,
  clusterLabAvailability,
  emulatorPodIds,
  expectOutcomeAgrees,
  expectPodAddrsAgree,
  flanneldOf,
  type Json,
  type PodIds,
  savedDelegate,
  startRealFlannel,
} from './lab-cluster.js';
import { labInput } from './lab-input.js';
import { StepFrameSink, underlayView } from './underlay-frames.js';

function availability(): { ok: true } | { ok: false; why: string } {
  const a = clusterLabAvailability(['loopback', 'bridge', 'host-local', 'portmap']);
  if (!a.ok) return a;
  for (const tool of ['ethtool', 'iptables-restore']) {
    if (!['/usr/sbin', '/sbin', '/usr/bin'].some((d) => existsSync(join(d, tool)))) {
      return { ok: false, why: `${tool} is not installed` };
    }
  }
  return { ok: true };
}

const avail = availability();
if (!avail.ok) console.warn(`skipping real-Linux flannel fidelity tests: ${avail.why}`);

const dir = join(import.meta.dirname, '../../scenarios');

/** The emulated run, with node1's underlay port captured per step. */
function runEmulator(sc: Scenario, sink: StepFrameSink): { k: Kernel; outcomes: StepOutcome[] } {
  const k = buildScenario(sc, { tracing: false, sinks: [sink] });
  const outcomes = sc.steps.map((step, i) => {
    sink.step = i;
    return playStep(k, step);
  });
  k.tracer.closeSinks();
  return { k, outcomes };
}

describe.skipIf(!avail.ok)('emulator agrees with real Linux on a flannel VXLAN cluster', () => {
  for (const file of ['flannel-vxlan.yaml', 'flannel-mtu.yaml']) {
    it(file, { timeout: 120_000 }, async () => {
      const sc = loadScenario(join(dir, file));
      const c = sc.cluster!;
      const node1 = c.nodes[0]!.name;
      const port = `veth-${node1}`;
      const sink = new StepFrameSink('root', port);
      const { k, outcomes } = runEmulator(sc, sink);
      const ids = new Map<string, PodIds>();
      for (const p of c.pods) {
        const d = flanneldOf(k, p.node);
        const podIds = emulatorPodIds(sc, c, p, { [d.subnetFile]: d.subnetEnv() ?? '' });
        // The scratch node drew the same identifiers as the scenario's run: same sandbox namespace name.
        expect(podIds.netnsName, `pod ${p.name}`).toBe(scenarioNs(k, p.name)?.name);
        ids.set(p.name, podIds);
      }
      const vtep = flanneldOf(k, node1).device;
      if (!(vtep instanceof VxlanDev)) throw new Error(`${file}: flanneld on ${node1} has no VXLAN device`);
      const results = new Map<string, Json>();
      const real = await runKernelLab(labInput(sc), {
        timeoutMs: 100_000,
        captures: [{ ns: 'root', dev: port }],
        prepare: (ctx) =>
          buildRealCluster(c, ids, ctx, results, {
            afterNodes: (x) => startRealFlannel(c, k, x),
            pluginConfig: (p, podIds, plugin) =>
              plugin.type === 'flannel' ? savedDelegate(k, p.node, podIds, plugin) : plugin,
          }),
      });
      expectPodAddrsAgree(sc, k, c, results);
      expect(real.length).toBe(sc.steps.length);
      let vxlanSeen = 0;
      sc.steps.forEach((step, i) => {
        const e = outcomes[i]!;
        if (e.result === 'done') throw new Error(`${file}: action steps are not replayed`);
        const r = real[i]!;
        const what = `${file} step ${i + 1} (${step.name ?? step.kind})`;
        expectOutcomeAgrees(what, step, e, r);
        const frames = r.extra?.[0]?.frames.map((f) => f.bytes) ?? [];
        const interleaving = step.kind === 'ping';
        const rv = underlayView(frames, vtep.dstport, interleaving);
        const ev = underlayView(sink.frames(i), vtep.dstport, interleaving);
        expect(ev, `${what}: frames on ${port}`).toEqual(rv);
        expect(rv.portsInRange, `${what}: VXLAN source ports in ip_local_port_range`).toBe(true);
        vxlanSeen += Object.values(rv.vxlan).flat().length;
      });
      expect(vxlanSeen, `${file}: VXLAN packets on ${port} in Linux`).toBeGreaterThan(0);
    });
  }
});
