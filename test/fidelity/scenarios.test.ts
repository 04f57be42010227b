// Fidelity: the bundled scenarios replayed in real Linux namespaces by tools/kernel-lab (root only) must agree
// with the emulator, step by step, on the outcome (reachable / unreachable / refused / timeout), the source and
// TTL of the reply or ICMP error, and the kind of ICMP error. Skipped with a message when the lab is unavailable.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/scenario/loader.js';
import { runScenario } from '../../src/scenario/runner.js';
import type { Scenario } from '../../src/scenario/types.js';
import { formatIpv4 } from '../../src/wire/addr.js';
import { kernelLabAvailable, runKernelLab } from '../../tools/kernel-lab/index.js';
import type { LabInput } from '../../tools/kernel-lab/types.js';

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

/** The command lines as written in the file, recovered from each command's position. */
function setupLines(sc: Scenario): { text: string }[] {
  const src = readFileSync(sc.file, 'utf8').split('\n');
  return sc.setup.map((c) => {
    let text = src[c.pos.line - 1]!.slice(c.pos.col - 1);
    let n = c.pos.line;
    while (text.endsWith('\\')) text = text.slice(0, -1) + src[n++]!.trim();
    if (/^["']/.test(src[c.pos.line - 1]![c.pos.col - 2] ?? '')) text = text.replace(/["']\s*$/, '');
    return { text: text.replace(/\s+#.*$/, '').trim() };
  });
}

function labInput(sc: Scenario): LabInput {
  return {
    setup: setupLines(sc),
    listen: sc.listen.map((l) => ({
      ns: l.ns,
      proto: l.proto,
      port: l.port,
      reply: l.reply,
      ...(l.address !== undefined ? { address: formatIpv4(l.address) } : {}),
    })),
    steps: sc.steps.map((s) =>
      s.kind === 'ping'
        ? {
            kind: 'ping' as const,
            from: s.from,
            to: formatIpv4(s.to),
            count: s.count,
            size: s.size,
            ...(s.ttl !== undefined ? { ttl: s.ttl } : {}),
            ...(s.src !== undefined ? { src: formatIpv4(s.src) } : {}),
          }
        : {
            kind: 'connect' as const,
            from: s.from,
            to: formatIpv4(s.to),
            port: s.port,
            proto: s.proto,
            payload: s.payload,
            ...(s.src !== undefined ? { src: formatIpv4(s.src) } : {}),
          },
    ),
  };
}

const icmpName = (n: string | undefined) => (n === 'proto-unreachable' ? 'protocol-unreachable' : n);

describe.skipIf(!lab.ok)('emulator agrees with real Linux', () => {
  for (const file of FIDELITY) {
    it(file, { timeout: 120_000 }, async () => {
      const sc = loadScenario(join(dir, file));
      const emu = runScenario(sc, { tracing: false });
      const real = await runKernelLab(labInput(sc), { timeoutMs: 110_000 });
      expect(real.length).toBe(sc.steps.length);
      sc.steps.forEach((step, i) => {
        const e = emu.steps[i]!.outcome;
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
