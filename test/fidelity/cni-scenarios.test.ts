// Fidelity: the cluster scenarios replayed in real Linux, their pods attached by the reference CNI plugin binaries
// (containernetworking-plugins in /usr/lib/cni), must agree with the emulator step by step: outcome, source and
// TTL of the reply or ICMP error, kind of ICMP error and the server's answer, and each pod's address. The real
// cluster is built by lab-cluster.ts as src/scenario/cluster.ts builds the emulated one, with the identifiers
// (container ID, pod UID) the emulated runtime drew. Root only; skipped with a message when the lab or the
// plugins are missing. Limits: iptables rule text is not compared; `via:` hops are not compared.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/scenario/loader.js';
import { runScenario, scenarioNs } from '../../src/scenario/runner.js';
import { runKernelLab } from '../../tools/kernel-lab/index.js';
import {
  buildRealCluster,
  clusterLabAvailability,
  emulatorPodIds,
  expectOutcomeAgrees,
  expectPodAddrsAgree,
  type Json,
  type PodIds,
} from './lab-cluster.js';
import { labInput } from './lab-input.js';

const avail = clusterLabAvailability(['loopback', 'bridge', 'host-local', 'portmap']);
if (!avail.ok) console.warn(`skipping real-Linux CNI fidelity tests: ${avail.why}`);

const dir = join(import.meta.dirname, '../../scenarios');

describe.skipIf(!avail.ok)('emulator agrees with real Linux and the reference CNI plugins', () => {
  for (const file of ['cni-two-pods.yaml', 'cni-hostport.yaml']) {
    it(file, { timeout: 60_000 }, async () => {
      const sc = loadScenario(join(dir, file));
      const c = sc.cluster!;
      const emu = runScenario(sc, { tracing: false });
      const ids = new Map<string, PodIds>();
      for (const p of c.pods) {
        const podIds = emulatorPodIds(sc, c, p);
        // The scratch node drew the same identifiers as the scenario's run: same sandbox namespace name.
        expect(podIds.netnsName, `pod ${p.name}`).toBe(scenarioNs(emu.kernel, p.name)?.name);
        ids.set(p.name, podIds);
      }
      const results = new Map<string, Json>();
      const real = await runKernelLab(labInput(sc), {
        timeoutMs: 50_000,
        prepare: (ctx) => buildRealCluster(c, ids, ctx, results),
      });
      expectPodAddrsAgree(sc, emu.kernel, c, results);
      expect(real.length).toBe(sc.steps.length);
      sc.steps.forEach((step, i) => {
        const e = emu.steps[i]!.outcome;
        if (e.result === 'done') throw new Error(`${file}: action steps are not replayed`);
        expectOutcomeAgrees(`${file} step ${i + 1} (${step.name ?? step.kind})`, step, e, real[i]!);
      });
    });
  }
});
