// Writes the artefacts of a run into a directory: the timeline as text and JSON lines, one pcapng capture of every
// device plus per-device nanosecond pcaps, a topology diagram, and a sequence diagram per step. File names are stable
// so that golden comparisons and scripts can rely on them.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scenarioAliases } from '../scenario/cluster.js';
import type { RunReport } from '../scenario/runner.js';
import { describeStep } from '../scenario/runner.js';
import { renderSequenceSvg } from '../trace/diagram/sequence.js';
import { renderTopologySvg } from '../trace/diagram/topology.js';
import { renderJsonLines, renderTimeline } from '../trace/text.js';
import type { TopologySnapshot } from '../trace/topology.js';

/**
 * The snapshot with each pod's sandbox namespace (`cni-<uuid>`, as containerd names it) shown as `<pod> (pod)`, so
 * the diagram reads with the scenario's names; veth peers are renamed with it.
 */
export function withPodNames(snap: TopologySnapshot, aliases: ReadonlyMap<string, { name: string }>): TopologySnapshot {
  const rename = new Map<string, string>();
  for (const [alias, ns] of aliases) if (alias !== ns.name) rename.set(ns.name, `${alias} (pod)`);
  if (rename.size === 0) return snap;
  const to = (n: string) => rename.get(n) ?? n;
  return {
    ...snap,
    namespaces: snap.namespaces.map((n) => ({
      ...n,
      name: to(n.name),
      devices: n.devices.map((d) => (d.peer ? { ...d, peer: { ...d.peer, ns: to(d.peer.ns) } } : d)),
    })),
  };
}

export function writeReportFiles(dir: string, report: RunReport, topologyName: string): string[] {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const put = (name: string, data: string | Uint8Array) => {
    writeFileSync(join(dir, name), data);
    written.push(name);
  };
  const all = report.kernel.tracer.events;
  put('trace.txt', renderTimeline(all, { showStep: true }));
  put('trace.jsonl', renderJsonLines(all));
  const snap = report.kernel.topology();
  const aliases = scenarioAliases(report.kernel);
  put('topology.svg', renderTopologySvg(aliases ? withPodNames(snap, aliases) : snap, { title: topologyName }));
  for (const s of report.steps) {
    put(
      `step-${s.index + 1}.svg`,
      renderSequenceSvg(s.events, { title: `step ${s.index + 1}: ${s.step.name ?? describeStep(s.step)}` }),
    );
  }
  return written;
}
