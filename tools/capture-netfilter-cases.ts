// Captures the netfilter fidelity fixtures in real Linux: every case of tools/netfilter-cases/cases.ts is run in
// fresh network namespaces (`pw-nfc-<id>-*`, removed afterwards) and written to
// test/fixtures/netfilter/cases/<name>.json with the step outcome, `iptables-save -c` and `conntrack -L` of the
// namespaces that had rules. Root only. It is a vitest file (Node 20 cannot run TypeScript by itself) that does
// nothing unless CAPTURE_NETFILTER=1; run it with tools/capture-netfilter-cases.sh [case-name …].
// Environment: NFC_ONLY=a,b (only these cases), NFC_JOBS=n (cases run in parallel, default 4),
// NFC_IPTABLES=legacy (iptables-legacy-restore/-save instead of the system's iptables), NFC_OUT=dir (write there).

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NETFILTER_CASES } from './netfilter-cases/cases.js';
import { captureFixture, netfilterLabAvailable } from './netfilter-cases/lab.js';
import type { NfCase } from './netfilter-cases/types.js';

const OUT = process.env.NFC_OUT ?? join(import.meta.dirname, '../test/fixtures/netfilter/cases');
const enabled = process.env.CAPTURE_NETFILTER === '1';

function selected(): NfCase[] {
  const only = (process.env.NFC_ONLY ?? '')
    .split(/[,\s]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  if (only.length === 0) return NETFILTER_CASES;
  const unknown = only.filter((n) => !NETFILTER_CASES.some((c) => c.name === n));
  if (unknown.length > 0) throw new Error(`unknown netfilter case(s): ${unknown.join(', ')}`);
  return NETFILTER_CASES.filter((c) => only.includes(c.name));
}

async function pool<T>(items: readonly T[], jobs: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, items.length)) }, worker));
}

describe.skipIf(!enabled)('capture netfilter fixtures in real Linux', () => {
  it('runs every case and writes its fixture', { timeout: 40 * 60_000 }, async () => {
    const avail = await netfilterLabAvailable();
    if (!avail.ok) throw new Error(`cannot capture netfilter fixtures: ${avail.why}`);
    const names = new Set<string>();
    for (const c of NETFILTER_CASES) {
      expect(names.has(c.name), `duplicate case name ${c.name}`).toBe(false);
      names.add(c.name);
    }
    await mkdir(OUT, { recursive: true });
    const failed: string[] = [];
    await pool(selected(), Number(process.env.NFC_JOBS ?? 4), async (c) => {
      try {
        const fx = await captureFixture(c);
        await writeFile(join(OUT, `${c.name}.json`), `${JSON.stringify(fx, null, 2)}\n`);
        const o = fx.observed.outcome;
        console.log(`${c.name}: ${o.result}${o.replyFrom ? ` from ${o.replyFrom}` : ''}${o.icmp ? ` ${o.icmp}` : ''}`);
      } catch (e) {
        failed.push(`${c.name}: ${(e as Error).message}`);
      }
    });
    expect(failed, failed.join('\n')).toEqual([]);
  });
});
