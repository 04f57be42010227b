// `-m sctp`: the port match kube-proxy writes for SCTP Services, parsed, saved and listed as iptables 1.8.9 does
// (checked against a real namespace: `-p sctp -m sctp ! --sport 1:5 --dport 7`), matched on the ports of the SCTP
// common header (read by the engine's packet field reader).

import { describe, expect, it } from 'vitest';
import { readPacketFields } from '../../src/iptables/packet.js';
import { formatSave } from '../../src/iptables/save.js';
import { NetfilterState } from '../../src/iptables/state.js';
import { Kernel } from '../../src/netns/kernel.js';
import { writeU16 } from '../../src/wire/addr.js';
import { ipt } from './helpers.js';
import { allMatch, makeCtx, makeSkb, ruleOf } from './packet.js';

function sctpCtx(sport: number, dport: number, fragOffset = 0) {
  const k = new Kernel({ seed: 1 });
  const ns = k.addNetns('s');
  const skb = makeSkb({ proto: 132, payload: 12, src: '10.0.0.1', dst: '172.30.0.42', fragOffset });
  const th = skb.nh + 20;
  writeU16(skb.buf, th, sport);
  writeU16(skb.buf, th + 2, dport);
  const ctx = makeCtx(skb, { ns });
  // The engine's own field reader, which knows where SCTP keeps its ports.
  readPacketFields(skb, ctx);
  return ctx;
}

describe('sctp match', () => {
  it('saves as iptables-save prints it, kube-proxy word order or not', () => {
    const s = new NetfilterState();
    ipt(s, '-t nat -N X');
    ipt(
      s,
      '-t nat -A X -m comment --comment "a b" -m sctp -p sctp -d 172.30.0.42 --dport 53 -j DNAT --to-destination 10.0.0.1:53',
    );
    ipt(s, '-t nat -A X -p sctp -m sctp ! --sport 1:5 --dport 7 -j ACCEPT');
    const save = formatSave(s, { date: null, table: 'nat' });
    expect(save).toContain(
      '-A X -d 172.30.0.42/32 -p sctp -m comment --comment "a b" -m sctp --dport 53 -j DNAT --to-destination 10.0.0.1:53\n',
    );
    expect(save).toContain('-A X -p sctp -m sctp ! --sport 1:5 --dport 7 -j ACCEPT\n');
  });

  it('matches the ports of the common header, never a later fragment', () => {
    expect(allMatch(ruleOf('-A INPUT -p sctp --dport 53'), sctpCtx(40000, 53))).toBe(true);
    expect(allMatch(ruleOf('-A INPUT -p sctp --dport 53'), sctpCtx(40000, 54))).toBe(false);
    expect(allMatch(ruleOf('-A INPUT -p sctp ! --sport 1:5'), sctpCtx(3, 53))).toBe(false);
    expect(allMatch(ruleOf('-A INPUT -p sctp --dport 53'), sctpCtx(40000, 53, 8))).toBe(false);
    expect(allMatch(ruleOf('-A INPUT -p udp --dport 53'), sctpCtx(40000, 53))).toBe(false);
  });
});
