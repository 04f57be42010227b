// Every bundled scenario runs, its expectations hold, and its timeline and pcapng capture equal the golden files
// byte for byte. Golden files change only through tools/update-golden.sh (UPDATE_GOLDEN=1), never by hand.

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/scenario/loader.js';
import { runScenario } from '../../src/scenario/runner.js';
import { PcapngWriter } from '../../src/trace/pcapng.js';
import { MemoryByteSink } from '../../src/trace/sink.js';
import { renderTimeline } from '../../src/trace/text.js';

const dir = join(import.meta.dirname, '../../scenarios');
const goldenDir = join(dir, 'golden');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const update = process.env.UPDATE_GOLDEN === '1';

function run(file: string) {
  const sc = loadScenario(join(dir, file));
  const mem = new MemoryByteSink();
  const report = runScenario(sc, { sinks: [new PcapngWriter(mem)] });
  return { report, trace: renderTimeline(report.kernel.tracer.events, { showStep: true }), pcapng: mem.bytes() };
}

describe('bundled scenarios', () => {
  it('there are scenarios to run', () => {
    expect(files.length).toBeGreaterThanOrEqual(7);
  });
  for (const file of files) {
    const name = basename(file, '.yaml');
    describe(name, () => {
      const first = run(file);
      it('every expectation holds', () => {
        const failures = first.report.steps.flatMap((s) => s.failures.map((f) => `step ${s.index + 1}: ${f}`));
        expect(failures).toEqual([]);
      });
      it('the same seed gives identical trace and capture', () => {
        const second = run(file);
        expect(second.trace).toBe(first.trace);
        expect(Buffer.from(second.pcapng).equals(Buffer.from(first.pcapng))).toBe(true);
      });
      it('trace and capture match the golden files', () => {
        const tracePath = join(goldenDir, `${name}.trace.txt`);
        const capPath = join(goldenDir, `${name}.pcapng`);
        if (update) {
          writeFileSync(tracePath, first.trace);
          writeFileSync(capPath, first.pcapng);
        }
        expect(existsSync(tracePath), `${tracePath} missing: run tools/update-golden.sh`).toBe(true);
        expect(first.trace).toBe(readFileSync(tracePath, 'utf8'));
        expect(Buffer.from(first.pcapng).equals(readFileSync(capPath))).toBe(true);
      });
    });
  }
});
