// Replays a netfilter fidelity case on the emulator and compares the result with what real Linux did: the step
// outcome (result, reply source and TTL, ICMP kind, payload), `iptables-save -c` of every namespace with rules
// (chain policies and per-rule packet and byte counters, keyed by the rule text Linux printed) and `conntrack -L`
// (without timeouts, ephemeral ports and echo ids). The netfilter entry point is loaded at run time, so this
// module also loads while src/iptables/index.ts is still being written; `loadNetfilterApi` then returns null.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Kernel } from '../../src/index.js';
import { ping, runUntilDone, tcpConnect, topology, UdpClient } from '../../src/index.js';
import type { NetNs } from '../../src/netns/netns.js';
import type { Probe } from '../../src/netns/probe.js';
import { parseIpv4 } from '../../src/wire/addr.js';
import type { LabStep } from '../../tools/kernel-lab/types.js';
import { counterLines, normaliseConntrack, outcomeView } from '../../tools/netfilter-cases/compare.js';
import type { NfCase, NfObserved } from '../../tools/netfilter-cases/types.js';

/** What test code needs of src/iptables/index.ts. */
export interface NetfilterApi {
  enableNetfilter(kernel: Kernel): void;
  iptablesRestore(ns: NetNs, text: string, opts?: { noflush?: boolean }): void;
  iptablesSave(ns: NetNs, opts?: { counters?: boolean }): string;
  conntrackList(ns: NetNs): string;
}

const API_SPECIFIER = '../../src/iptables/index.js';
export const API_SOURCE = fileURLToPath(new URL('../../src/iptables/index.ts', import.meta.url));

/** The emulator's netfilter API, or null while src/iptables/index.ts does not exist. */
export async function loadNetfilterApi(): Promise<NetfilterApi | null> {
  if (!existsSync(API_SOURCE)) return null;
  const spec = API_SPECIFIER;
  return (await import(/* @vite-ignore */ spec)) as NetfilterApi;
}

export interface EmulatorObservation {
  outcome: NfObserved['outcome'];
  iptablesSave: Record<string, string>;
  conntrack: Record<string, string>;
}

const enc = new TextEncoder();

function ip(a: string): number {
  const v = parseIpv4(a);
  if (v === null) throw new Error(`bad IPv4 address '${a}' in a netfilter case`);
  return v;
}

function startStep(k: Kernel, step: LabStep, waitNs: number): Probe {
  const ns = k.netns(step.from);
  const src = step.src !== undefined ? ip(step.src) : null;
  if (step.kind === 'ping') {
    return ping(ns, ip(step.to), {
      count: step.count ?? 1,
      src,
      waitNs,
      ...(step.size !== undefined ? { size: step.size } : {}),
      ...(step.ttl !== undefined ? { ttl: step.ttl } : {}),
    });
  }
  const payload = enc.encode(step.payload);
  if (step.proto === 'tcp') return tcpConnect(ns, ip(step.to), step.port, payload, src, waitNs);
  return new UdpClient(ns, ip(step.to), step.port, payload, src, waitNs).start();
}

/** Builds the case's topology in a fresh emulated kernel, applies its rules and listeners, runs its step. */
export function replayOnEmulator(api: NetfilterApi, c: NfCase, waitSeconds: number): EmulatorObservation {
  const k = topology(c.setup, { seed: 1, tracing: false });
  api.enableNetfilter(k);
  for (const [ns, text] of Object.entries(c.rules)) api.iptablesRestore(k.netns(ns), text);
  for (const l of c.listen) {
    k.netns(l.ns).sockets.listen(l.proto, l.port, enc.encode(l.reply), l.address ? ip(l.address) : 0);
  }
  const probe = runUntilDone(k, startStep(k, c.step, waitSeconds * 1e9));
  const o = probe.outcome;
  const iptablesSave: Record<string, string> = {};
  const conntrack: Record<string, string> = {};
  for (const ns of Object.keys(c.rules)) {
    iptablesSave[ns] = api.iptablesSave(k.netns(ns), { counters: true });
    conntrack[ns] = api.conntrackList(k.netns(ns));
  }
  const outcome: NfObserved['outcome'] = { result: o.result, detail: o.lines.join('; ') };
  if (o.replyFrom !== undefined) outcome.replyFrom = o.replyFrom;
  if (o.replyTtl !== undefined) outcome.replyTtl = o.replyTtl;
  if (o.icmp !== undefined) outcome.icmp = o.icmp;
  if (o.replyPayload !== undefined) outcome.replyPayload = o.replyPayload;
  return { outcome, iptablesSave, conntrack };
}

/** Both sides of one aspect, in a form `toEqual` diffs readably. */
export interface Aspect {
  what: string;
  linux: unknown;
  emulator: unknown;
}

/**
 * The aspects to compare. Reply source and TTL are compared where Linux's capture showed them (a connection
 * redirected to 127.0.0.1 has no packet from the port the client dialled, so kernel-lab reports no source).
 */
export function aspects(
  c: NfCase,
  linux: Pick<NfObserved, 'outcome' | 'iptablesSave' | 'conntrack'>,
  emu: EmulatorObservation,
): Aspect[] {
  const real = outcomeView(linux.outcome, c.step.kind);
  const mine = outcomeView(emu.outcome, c.step.kind);
  for (const key of ['replyFrom', 'replyTtl'] as const) {
    if (real[key] === undefined) delete mine[key];
  }
  const out: Aspect[] = [{ what: 'step outcome', linux: real, emulator: mine }];
  const groups = (ns: string) => (c.randomGroups ?? []).filter((g) => g.ns === ns);
  for (const ns of Object.keys(c.rules)) {
    out.push({
      what: `iptables-save -c in ${ns}`,
      linux: counterLines(linux.iptablesSave[ns] ?? '', groups(ns)),
      emulator: counterLines(emu.iptablesSave[ns] ?? '', groups(ns)),
    });
    out.push({
      what: `conntrack -L in ${ns}`,
      linux: normaliseConntrack(linux.conntrack[ns] ?? ''),
      emulator: normaliseConntrack(emu.conntrack[ns] ?? ''),
    });
  }
  return out;
}
