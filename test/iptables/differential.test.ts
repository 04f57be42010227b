// Differential fidelity of netfilter: every fixture in test/fixtures/netfilter/cases (captured from real Linux by
// tools/capture-netfilter-cases.sh) is replayed on the emulator, which must agree on the step outcome, on every
// chain policy counter and per-rule packet and byte counter of `iptables-save -c` (rules matched by the exact text
// Linux printed, so the emulator must print rules identically), and on `conntrack -L` up to timeouts, ephemeral
// ports and echo ids. No root needed. The fixtures themselves are checked first: enough of them, each one parses,
// and each still matches its case definition in tools/netfilter-cases/cases.ts (a changed case must be captured
// again). While src/iptables/index.ts does not exist the emulator comparison is skipped, saying so.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NETFILTER_CASES } from '../../tools/netfilter-cases/cases.js';
import { counterLines, normaliseConntrack, parseIptablesSave } from '../../tools/netfilter-cases/compare.js';
import type { NfFixture } from '../../tools/netfilter-cases/types.js';
import { API_SOURCE, aspects, loadNetfilterApi, replayOnEmulator } from './netfilter-replay.js';

const DIR = join(import.meta.dirname, '../fixtures/netfilter/cases');
const fixtures: NfFixture[] = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(DIR, f), 'utf8')) as NfFixture);

const api = await loadNetfilterApi();
if (!api) console.warn(`netfilter differential tests skipped: ${API_SOURCE} does not exist yet`);

describe('netfilter fixtures from real Linux', () => {
  it('cover at least 45 cases, one file per case of cases.ts', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(45);
    expect(fixtures.map((f) => f.name).sort()).toEqual(NETFILTER_CASES.map((c) => c.name).sort());
  });

  for (const fx of fixtures) {
    it(`${fx.name}: parses and matches its case definition`, () => {
      const c = NETFILTER_CASES.find((x) => x.name === fx.name);
      expect(c, `no case '${fx.name}' in cases.ts`).toBeDefined();
      const { observed, environment, ...input } = fx;
      expect(input, 'the case changed since the fixture was captured: run tools/capture-netfilter-cases.sh').toEqual(
        JSON.parse(JSON.stringify(c)),
      );
      expect(Object.keys(observed.iptablesSave).sort()).toEqual(Object.keys(fx.rules).sort());
      for (const text of Object.values(observed.iptablesSave))
        expect(parseIptablesSave(text).length).toBeGreaterThan(0);
      expect(environment.waitSeconds).toBeGreaterThan(0);
    });
  }
});

describe('netfilter comparison helpers', () => {
  const byName = (n: string) => fixtures.find((f) => f.name === n)!;

  it('parse iptables-save -c into policies and rules with counters', () => {
    const [filter] = parseIptablesSave(byName('input-policy-drop-ping').observed.iptablesSave.h!);
    expect(filter!.chains[0]).toEqual({ name: 'INPUT', policy: 'DROP', packets: 1, bytes: 84 });
    expect(filter!.rules).toEqual([
      { chain: 'INPUT', text: '-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT', packets: 0, bytes: 0 },
    ]);
    expect(() => parseIptablesSave('*filter\n:INPUT ACCEPT\n-A INPUT -j ACCEPT\nCOMMIT\n')).toThrow(/-c/);
  });

  it('compare random statistic rules by their sum only', () => {
    const fx = byName('statistic-random');
    const lines = counterLines(fx.observed.iptablesSave.h!, fx.randomGroups);
    expect(lines).toContain('filter sum of SVC rules 1,2,3: [1:84]');
    expect(lines.filter((l) => l.startsWith('filter [*:*] -A SVC'))).toHaveLength(3);
  });

  it('normalise conntrack timeouts, ephemeral ports and echo ids, keeping the rest', () => {
    const text =
      'icmp     1 29 src=10.0.0.1 dst=10.0.0.2 type=8 code=0 id=3694 src=10.0.0.2 dst=10.0.0.1 type=0 code=0 id=3694 mark=0 use=1\n' +
      'udp      17 29 src=10.0.1.2 dst=10.0.2.2 sport=46949 dport=5000 src=10.0.2.2 dst=10.0.2.1 sport=5000 dport=20000 mark=0 use=1\n';
    expect(normaliseConntrack(text)).toEqual([
      'icmp 1 * src=10.0.0.1 dst=10.0.0.2 type=8 code=0 id=* src=10.0.0.2 dst=10.0.0.1 type=0 code=0 id=* mark=0 use=1',
      'udp 17 * src=10.0.1.2 dst=10.0.2.2 sport=* dport=5000 src=10.0.2.2 dst=10.0.2.1 sport=5000 dport=20000 mark=0 use=1',
    ]);
  });
});

const title = api
  ? 'netfilter differential: the emulator agrees with real Linux'
  : `netfilter differential: SKIPPED — ${API_SOURCE} does not exist yet`;

(api ? describe : describe.skip)(title, () => {
  for (const fx of fixtures) {
    it(fx.name, () => {
      const emu = replayOnEmulator(api!, fx, fx.environment.waitSeconds);
      for (const a of aspects(fx, fx.observed, emu)) {
        expect.soft(a.emulator, `${fx.name}: ${a.what} (${fx.description})`).toEqual(a.linux);
      }
    });
  }
});
