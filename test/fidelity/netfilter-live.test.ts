// Live netfilter fidelity (root only): a handful of the netfilter cases are run again in real Linux namespaces
// (`pw-nfc-*`, removed afterwards) and compared, aspect by aspect, with the stored fixture — so that drift between
// the fixtures and the running kernel is caught — and with the emulator, the same way test/iptables/differential
// compares the fixtures. Skipped with a message without root, iproute2, ping, tcpdump, python3, iptables or
// conntrack; the emulator half is skipped while src/iptables/index.ts does not exist.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NETFILTER_CASES } from '../../tools/netfilter-cases/cases.js';
import { DEFAULT_WAIT_S, netfilterLabAvailable, runNetfilterCase } from '../../tools/netfilter-cases/lab.js';
import type { NfFixture } from '../../tools/netfilter-cases/types.js';
import { API_SOURCE, aspects, loadNetfilterApi, replayOnEmulator } from '../iptables/netfilter-replay.js';

const LIVE = [
  'input-policy-drop-tcp-allowed',
  'reject-tcp-reset-forward',
  'ctstate-related-udp-unreachable',
  'dnat-port-forward',
  'masquerade',
  'connmark-save-restore',
  'statistic-nth',
  'bridge-nf-physdev',
  'hooks-forwarded-ping',
];

const lab = await netfilterLabAvailable();
if (!lab.ok) console.warn(`netfilter live fidelity skipped: ${lab.why}`);
const api = await loadNetfilterApi();
if (lab.ok && !api) console.warn(`netfilter live fidelity: emulator comparison skipped, ${API_SOURCE} is missing`);

const fixture = (name: string): NfFixture =>
  JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/netfilter/cases', `${name}.json`), 'utf8'));

describe.skipIf(!lab.ok)('netfilter cases replayed live in real Linux', () => {
  for (const name of LIVE) {
    it(name, { timeout: 120_000 }, async () => {
      const c = NETFILTER_CASES.find((x) => x.name === name);
      if (!c) throw new Error(`no netfilter case '${name}'`);
      const live = await runNetfilterCase(c, { waitSeconds: DEFAULT_WAIT_S });
      const stored = fixture(name);
      // Linux now against Linux then: both sides go through the emulator comparison's normalisation.
      const drift = aspects(c, stored.observed, live);
      for (const a of drift) expect.soft(a.emulator, `${name}: ${a.what} differs from the fixture`).toEqual(a.linux);
      if (!api) return;
      const emu = replayOnEmulator(api, c, DEFAULT_WAIT_S);
      for (const a of aspects(c, live, emu)) expect.soft(a.emulator, `${name}: ${a.what}`).toEqual(a.linux);
    });
  }
});
