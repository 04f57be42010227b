// Fidelity: the bundled scenarios replayed in real Linux namespaces by tools/kernel-lab (root only) must agree
// with the emulator, step by step, on the outcome (reachable / unreachable / refused / timeout), the source and
// TTL of the reply or ICMP error, and the kind of ICMP error. Skipped with a message when the lab is unavailable.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/scenario/loader.js';
import { runScenario } from '../../src/scenario/runner.js';
import { kernelLabAvailable, runKernelLab } from '../../tools/kernel-lab/index.js';
import { icmpName, labInput } from './lab-input.js';

const lab = kernelLabAvailable();
if (!lab.ok) console.warn(`kernel-lab unavailable, skipping real-Linux fidelity tests: ${lab.why}`);

const dir = join(import.meta.dirname, '../../scenarios');
const FIDELITY = [
  'veth-pair.yaml',
  'pods-on-bridge.yaml',
  'router.yaml',
  'router-forwarding-off.yaml',
  'routing-loop.yaml',
  'unreachable.yaml',
  'closed-port.yaml',
  'nat-port-forward.yaml',
  'reject.yaml',
  'service-same-bridge-nf1.yaml',
  'service-same-bridge-nf0.yaml',
  'masquerade.yaml',
];

describe.skipIf(!lab.ok)('emulator agrees with real Linux', () => {
  for (const file of FIDELITY) {
    it(file, { timeout: 120_000 }, async () => {
      const sc = loadScenario(join(dir, file));
      const emu = runScenario(sc, { tracing: false });
      const real = await runKernelLab(labInput(sc), { timeoutMs: 110_000 });
      expect(real.length).toBe(sc.steps.length);
      sc.steps.forEach((step, i) => {
        const e = emu.steps[i]!.outcome;
        if (e.result === 'done') throw new Error(`${file}: action steps are not replayed`);
        const r = real[i]!;
        const what = `${file} step ${i + 1} (${step.name ?? step.kind})`;
        expect(
          { result: e.result, replyFrom: e.replyFrom, replyTtl: e.replyTtl, icmp: icmpName(e.icmp) },
          what,
        ).toEqual({
          result: r.result,
          replyFrom: r.replyFrom,
          replyTtl: r.replyTtl,
          icmp: icmpName(r.icmp),
        });
        if (step.kind === 'connect' && r.replyPayload !== undefined) expect(e.replyPayload, what).toBe(r.replyPayload);
      });
    });
  }
});
