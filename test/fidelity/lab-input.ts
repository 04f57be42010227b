// A scenario turned into tools/kernel-lab input: the setup command lines as written in the file (recovered from
// each command's position, following `\` continuations and dropping a quoting character and trailing comments),
// the listeners and the steps with addresses as text (a step naming a Service must be resolved first: labStep
// takes the address the step has). Shared by the real-Linux fidelity tests.

import { readFileSync } from 'node:fs';
import type { ProbeStep, Scenario } from '../../src/scenario/types.js';
import { formatIpv4 } from '../../src/wire/addr.js';
import type { LabInput, LabListener, LabStep } from '../../tools/kernel-lab/types.js';

export function setupLines(sc: Scenario): { text: string }[] {
  const src = readFileSync(sc.file, 'utf8').split('\n');
  return sc.setup.map((c) => {
    let text = src[c.pos.line - 1]!.slice(c.pos.col - 1);
    let n = c.pos.line;
    while (text.endsWith('\\')) text = text.slice(0, -1) + src[n++]!.trim();
    if (/^["']/.test(src[c.pos.line - 1]![c.pos.col - 2] ?? '')) text = text.replace(/["']\s*$/, '');
    return { text: text.replace(/\s+#.*$/, '').trim() };
  });
}

/** The scenario's own listeners. */
export function labListeners(sc: Scenario): LabListener[] {
  return sc.listen.map((l) => ({
    ns: l.ns,
    proto: l.proto,
    port: l.port,
    reply: l.reply,
    ...(l.address !== undefined ? { address: formatIpv4(l.address) } : {}),
  }));
}

/** One ping or connect step as the lab runs it: one attempt, to the step's address (a Service already resolved). */
export function labStep(s: ProbeStep): LabStep {
  return s.kind === 'ping'
    ? {
        kind: 'ping' as const,
        from: s.from,
        to: formatIpv4(s.to),
        count: s.count,
        size: s.size,
        ...(s.ttl !== undefined ? { ttl: s.ttl } : {}),
        ...(s.src !== undefined ? { src: formatIpv4(s.src) } : {}),
        ...(s.df !== undefined ? { df: s.df } : {}),
      }
    : {
        kind: 'connect' as const,
        from: s.from,
        to: formatIpv4(s.to),
        port: s.port,
        proto: s.proto,
        payload: s.payload,
        ...(s.src !== undefined ? { src: formatIpv4(s.src) } : {}),
      };
}

export function labInput(sc: Scenario): LabInput {
  return {
    setup: setupLines(sc),
    listen: labListeners(sc),
    steps: sc.steps.map((s) => {
      if (s.kind === 'action') throw new Error(`${sc.file}: the kernel lab cannot replay '${s.action.kind}' steps`);
      return labStep(s);
    }),
  };
}

/** kernel-lab and podwire name ICMP protocol unreachable differently. */
export const icmpName = (n: string | undefined) => (n === 'proto-unreachable' ? 'protocol-unreachable' : n);
