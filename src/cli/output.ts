// Writes the artefacts of a run into a directory: the timeline as text and JSON lines, one pcapng capture of every
// device plus per-device nanosecond pcaps, a topology diagram, and a sequence diagram per step. File names are stable
// so that golden comparisons and scripts can rely on them.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunReport } from '../scenario/runner.js';
import { describeStep } from '../scenario/runner.js';
import { renderSequenceSvg } from '../trace/diagram/sequence.js';
import { renderTopologySvg } from '../trace/diagram/topology.js';
import { renderJsonLines, renderTimeline } from '../trace/text.js';

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
  put('topology.svg', renderTopologySvg(report.kernel.topology(), { title: topologyName }));
  for (const s of report.steps) {
    put(
      `step-${s.index + 1}.svg`,
      renderSequenceSvg(s.events, { title: `step ${s.index + 1}: ${s.step.name ?? describeStep(s.step)}` }),
    );
  }
  return written;
}
