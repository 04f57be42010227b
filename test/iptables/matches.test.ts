import { describe, expect, it } from 'vitest';
import { NfacctStore, nfacctStore } from '../../src/iptables/matches/nfacct.js';
import { formatRecentTable, recentTables } from '../../src/iptables/matches/recent.js';
import { addAddr } from '../../src/netns/ifaddr.js';
import { Kernel } from '../../src/netns/kernel.js';
import { createDummy, linkSetUp } from '../../src/netns/link.js';
import { Rng } from '../../src/sim/rng.js';
import { allMatch, conntrackEntry, ip, makeCtx, makeSkb, type PacketSpec, ruleOf } from './packet.js';

const k = new Kernel({ seed: 3 });
const ns = k.addNetns('m');
const eth0 = createDummy(ns, 'eth0');
const eth1 = createDummy(ns, 'veth1');
linkSetUp(eth0);
linkSetUp(eth1);
addAddr(ns, eth0, ip('10.0.0.2'), 24, { broadcast: 'auto' });
addAddr(ns, eth1, ip('192.168.9.1'), 24, { broadcast: 'auto' });

const ctx = (p: PacketSpec, o: Partial<Parameters<typeof makeCtx>[1]> = {}) => makeCtx(makeSkb(p), { ns, ...o });
const matches = (rule: string, p: PacketSpec, o: Partial<Parameters<typeof makeCtx>[1]> = {}): boolean =>
  allMatch(ruleOf(`-A INPUT ${rule}`), ctx(p, o));

describe('tcp and udp', () => {
  it('ports, ranges and inversion', () => {
    expect(matches('-p tcp --dport 80', { dport: 80 })).toBe(true);
    expect(matches('-p tcp --dport 80', { dport: 81 })).toBe(false);
    expect(matches('-p tcp ! --dport 80', { dport: 81 })).toBe(true);
    expect(matches('-p tcp --sport 1000:2000', { sport: 1500 })).toBe(true);
    expect(matches('-p tcp --sport 1000:2000', { sport: 999 })).toBe(false);
    expect(matches('-p udp --dport 53', { proto: 'udp', dport: 53 })).toBe(true);
    expect(matches('-p udp --dport 53', { proto: 'tcp', dport: 53 })).toBe(false);
    expect(matches('-p tcp --dport 80', { dport: 80, fragOffset: 8 })).toBe(false);
  });

  it('flags, --syn and options', () => {
    expect(matches('-p tcp --syn', { flags: 0x02 })).toBe(true);
    expect(matches('-p tcp --syn', { flags: 0x12 })).toBe(false);
    expect(matches('-p tcp ! --syn', { flags: 0x10 })).toBe(true);
    expect(matches('-p tcp --tcp-flags SYN,RST RST', { flags: 0x14 })).toBe(true);
    expect(matches('-p tcp --tcp-option 2', { tcpOptions: { mss: 1460 } })).toBe(true);
    expect(matches('-p tcp --tcp-option 2', {})).toBe(false);
    expect(matches('-p tcp ! --tcp-option 8', { tcpOptions: { mss: 1460 } })).toBe(true);
  });

  it('exposes exact ports for rule indexes', () => {
    const m = ruleOf('-A INPUT -p tcp ! --dport 22 --sport 1:2').matches[0] as unknown as Record<string, unknown>;
    expect([m.dport, m.dportInv, m.sport]).toEqual([22, true, null]);
  });
});

describe('icmp and multiport', () => {
  it('icmp types, codes, any', () => {
    expect(matches('-p icmp --icmp-type echo-request', { proto: 'icmp', icmpType: 8 })).toBe(true);
    expect(matches('-p icmp --icmp-type echo-request', { proto: 'icmp', icmpType: 0 })).toBe(false);
    expect(matches('-p icmp --icmp-type port-unreachable', { proto: 'icmp', icmpType: 3, icmpCode: 3 })).toBe(true);
    expect(matches('-p icmp --icmp-type 3/1', { proto: 'icmp', icmpType: 3, icmpCode: 3 })).toBe(false);
    expect(matches('-p icmp --icmp-type 3', { proto: 'icmp', icmpType: 3, icmpCode: 13 })).toBe(true);
    expect(matches('-p icmp --icmp-type any', { proto: 'icmp', icmpType: 42 })).toBe(true);
    expect(matches('-p icmp ! --icmp-type echo-reply', { proto: 'icmp', icmpType: 8 })).toBe(true);
  });

  it('multiport lists, ranges, either direction', () => {
    expect(matches('-p tcp -m multiport --dports 22,80:90', { dport: 85 })).toBe(true);
    expect(matches('-p tcp -m multiport --dports 22,80:90', { dport: 91 })).toBe(false);
    expect(matches('-p tcp -m multiport --sports 22', { sport: 22, dport: 1 })).toBe(true);
    expect(matches('-p tcp -m multiport --ports 22', { sport: 5, dport: 22 })).toBe(true);
    expect(matches('-p tcp -m multiport ! --ports 22', { sport: 5, dport: 22 })).toBe(false);
  });
});

describe('conntrack and state', () => {
  const ct = conntrackEntry();
  it('states, with the SNAT/DNAT virtual states', () => {
    expect(matches('-m conntrack --ctstate NEW', {}, { ct, ctState: 'NEW' })).toBe(true);
    expect(matches('-m conntrack --ctstate RELATED,ESTABLISHED', {}, { ct, ctState: 'ESTABLISHED' })).toBe(true);
    expect(matches('-m conntrack --ctstate INVALID', {}, { ct: null, ctState: 'INVALID' })).toBe(true);
    expect(matches('-m conntrack --ctstate UNTRACKED', {}, { ct: null, ctState: 'UNTRACKED' })).toBe(true);
    expect(matches('-m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT', {}, { ct, ctState: 'NEW' })).toBe(true);
    const natted = conntrackEntry({ status: { ...ct.status, dstNat: true } });
    expect(matches('-m conntrack --ctstate DNAT', {}, { ct: natted, ctState: 'NEW' })).toBe(true);
    expect(matches('-m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT', {}, { ct: natted, ctState: 'NEW' })).toBe(
      false,
    );
    expect(matches('-m state --state NEW', {}, { ct, ctState: 'NEW' })).toBe(true);
    expect(matches('-m state ! --state INVALID', {}, { ct, ctState: 'NEW' })).toBe(true);
  });

  it('tuples, status, direction and expiry', () => {
    const o = { ct, ctState: 'ESTABLISHED' as const, now: 20e9 };
    expect(matches('-m conntrack --ctorigdst 10.96.0.0/12 --ctproto tcp', {}, o)).toBe(true);
    expect(matches('-m conntrack --ctreplsrc 10.244.1.5 --ctreplsrcport 8080', {}, o)).toBe(true);
    expect(matches('-m conntrack ! --ctreplsrc 10.244.1.5', {}, o)).toBe(false);
    expect(matches('-m conntrack --ctorigdstport 81:90', {}, o)).toBe(false);
    expect(matches('-m conntrack --ctstatus CONFIRMED', {}, o)).toBe(true);
    expect(matches('-m conntrack --ctstatus ASSURED', {}, o)).toBe(false);
    expect(matches('-m conntrack --ctstatus NONE', {}, o)).toBe(false);
    expect(matches('-m conntrack ! --ctstatus NONE', {}, o)).toBe(true);
    expect(matches('-m conntrack --ctdir ORIGINAL', {}, o)).toBe(true);
    expect(matches('-m conntrack --ctdir REPLY', {}, o)).toBe(false);
    expect(matches('-m conntrack --ctexpire 90:100', {}, o)).toBe(true);
    expect(matches('-m conntrack --ctexpire 101:200', {}, o)).toBe(false);
    expect(matches('-m conntrack --ctproto udp', {}, { ct: null })).toBe(false);
  });
});

describe('marks', () => {
  it('mark and connmark', () => {
    const c = ctx({});
    c.skb.mark = 0x4001;
    expect(allMatch(ruleOf('-A INPUT -m mark --mark 0x4000/0x4000'), c)).toBe(true);
    expect(allMatch(ruleOf('-A INPUT -m mark --mark 0x4000'), c)).toBe(false);
    expect(allMatch(ruleOf('-A INPUT -m mark ! --mark 0x4000'), c)).toBe(true);
    const ct = conntrackEntry({ mark: 0x10 });
    expect(matches('-m connmark --mark 0x10/0xf0', {}, { ct })).toBe(true);
    expect(matches('-m connmark --mark 0x10', {}, { ct: null })).toBe(false);
  });
});

describe('addrtype from the routing tables', () => {
  it('LOCAL, BROADCAST, MULTICAST, UNICAST', () => {
    expect(matches('-m addrtype --dst-type LOCAL', { dst: '10.0.0.2' })).toBe(true);
    expect(matches('-m addrtype --dst-type LOCAL', { dst: '10.0.0.3' })).toBe(false);
    expect(matches('-m addrtype --dst-type UNICAST', { dst: '8.8.8.8' })).toBe(true);
    expect(matches('-m addrtype --dst-type BROADCAST', { dst: '10.0.0.255' })).toBe(true);
    expect(matches('-m addrtype --dst-type BROADCAST', { dst: '255.255.255.255' })).toBe(true);
    expect(matches('-m addrtype --dst-type MULTICAST', { dst: '224.0.0.251' })).toBe(true);
    expect(matches('-m addrtype ! --src-type LOCAL', { src: '192.168.9.1' })).toBe(false);
  });

  it('limited to the input interface', () => {
    const r = '-m addrtype --dst-type LOCAL --limit-iface-in';
    expect(matches(r, { dst: '10.0.0.2' }, { inDev: eth0 })).toBe(true);
    expect(matches(r, { dst: '10.0.0.2' }, { inDev: eth1 })).toBe(false);
  });
});

describe('statistic', () => {
  it('random mode draws from the seeded PRNG', () => {
    const rng = new Rng(11);
    const half = ruleOf('-A INPUT -m statistic --mode random --probability 0.5');
    let hits = 0;
    for (let i = 0; i < 4000; i++) if (allMatch(half, ctx({}, { rng }))) hits++;
    expect(hits).toBeGreaterThan(1850);
    expect(hits).toBeLessThan(2150);
    const never = ruleOf('-A INPUT -m statistic --mode random --probability 0');
    const always = ruleOf('-A INPUT -m statistic --mode random --probability 1');
    for (let i = 0; i < 200; i++) {
      expect(allMatch(never, ctx({}, { rng }))).toBe(false);
      expect(allMatch(always, ctx({}, { rng }))).toBe(true);
    }
    const a = ruleOf('-A INPUT -m statistic --mode random --probability 0.3');
    const b = ruleOf('-A INPUT -m statistic --mode random --probability 0.3');
    const seq = (r: typeof a) => Array.from({ length: 50 }, () => allMatch(r, ctx({}, { rng: new Rng(5) })));
    expect(seq(a)).toEqual(seq(b));
  });

  it('nth mode counts per rule', () => {
    const r = ruleOf('-A INPUT -m statistic --mode nth --every 3 --packet 1');
    expect(Array.from({ length: 7 }, () => allMatch(r, ctx({})))).toEqual([
      false,
      true,
      false,
      false,
      true,
      false,
      false,
    ]);
    const first = ruleOf('-A INPUT -m statistic --mode nth --every 2 --packet 0');
    expect(Array.from({ length: 4 }, () => allMatch(first, ctx({})))).toEqual([true, false, true, false]);
    const inv = ruleOf('-A INPUT -m statistic --mode nth ! --every 2 --packet 0');
    expect(Array.from({ length: 4 }, () => allMatch(inv, ctx({})))).toEqual([false, true, false, true]);
  });
});

describe('recent', () => {
  it('set, rcheck with seconds and hitcount, update, remove, rttl', () => {
    const rns = k.addNetns('recent');
    const c = (now: number, p: PacketSpec = {}) => makeCtx(makeSkb({ src: '10.1.1.1', ...p }), { ns: rns, now });
    const set = ruleOf('-A INPUT -m recent --set --name SSH');
    const check = ruleOf('-A INPUT -m recent --rcheck --seconds 60 --hitcount 3 --name SSH');
    const update = ruleOf('-A INPUT -m recent --update --seconds 10 --name SSH');
    expect(allMatch(check, c(0))).toBe(false);
    expect(allMatch(set, c(0))).toBe(true);
    expect(allMatch(set, c(1e9))).toBe(true);
    expect(allMatch(check, c(2e9))).toBe(false);
    expect(allMatch(set, c(3e9))).toBe(true);
    expect(allMatch(check, c(4e9))).toBe(true);
    expect(allMatch(check, c(62e9))).toBe(false);
    expect(allMatch(update, c(70e9))).toBe(false);
    expect(allMatch(set, c(71e9))).toBe(true);
    expect(allMatch(update, c(80e9))).toBe(true);
    expect(allMatch(update, c(89e9))).toBe(true);
    expect(formatRecentTable(recentTables(rns).get('SSH')!)).toContain('src=10.1.1.1 ttl: 64');
    expect(allMatch(ruleOf('-A INPUT -m recent --rcheck --rttl --name SSH'), c(90e9, { ttl: 63 }))).toBe(false);
    expect(allMatch(ruleOf('-A INPUT -m recent --rcheck --rttl --name SSH'), c(90e9))).toBe(true);
    expect(allMatch(ruleOf('-A INPUT -m recent --remove --name SSH'), c(91e9))).toBe(true);
    expect(allMatch(ruleOf('-A INPUT -m recent --rcheck --name SSH'), c(92e9))).toBe(false);
    expect(allMatch(ruleOf('-A INPUT -m recent ! --rcheck --name SSH'), c(92e9))).toBe(true);
  });

  it('keys on the destination under a mask, and reaps old stamps', () => {
    const rns = k.addNetns('recent2');
    const c = (now: number, dst: string) => makeCtx(makeSkb({ dst }), { ns: rns, now });
    ruleOf('-A INPUT -m recent --set --rdest --mask 255.255.255.0').matches[0]!.matches(c(0, '10.9.9.1'));
    const check = ruleOf('-A INPUT -m recent --rcheck --rdest --mask 255.255.255.0 --seconds 5 --reap');
    expect(allMatch(check, c(1e9, '10.9.9.200'))).toBe(true);
    expect(allMatch(check, c(10e9, '10.9.9.200'))).toBe(false);
    expect(recentTables(rns).get('DEFAULT')!.entries.size).toBe(0);
  });
});

describe('physdev, iprange, length, mac, limit, nfacct, comment', () => {
  it('physdev on bridged and unbridged packets', () => {
    const r = (x: string) => ruleOf(`-A FORWARD -m physdev ${x}`);
    const bridged = ctx({}, { bridged: true, physIn: eth1, physOut: eth0 });
    const plain = ctx({});
    expect(allMatch(r('--physdev-is-bridged'), bridged)).toBe(true);
    expect(allMatch(r('--physdev-is-bridged'), plain)).toBe(false);
    expect(allMatch(r('! --physdev-is-bridged'), plain)).toBe(true);
    expect(allMatch(r('--physdev-in veth+'), bridged)).toBe(true);
    expect(allMatch(r('--physdev-in eth+'), bridged)).toBe(false);
    expect(allMatch(r('--physdev-out eth0 --physdev-is-bridged'), bridged)).toBe(true);
    expect(allMatch(r('! --physdev-out eth0'), bridged)).toBe(false);
  });

  it('iprange and length', () => {
    expect(matches('-m iprange --src-range 10.0.0.1-10.0.0.9', { src: '10.0.0.5' })).toBe(true);
    expect(matches('-m iprange ! --src-range 10.0.0.1-10.0.0.9', { src: '10.0.0.5' })).toBe(false);
    expect(matches('-m iprange --dst-range 10.0.0.1-10.0.0.9', { dst: '10.0.1.5' })).toBe(false);
    expect(matches('-m length --length 40', { payload: 0 })).toBe(true);
    expect(matches('-m length --length 0:100', { payload: 100 })).toBe(false);
    expect(matches('-m length ! --length 0:100', { payload: 100 })).toBe(true);
  });

  it('mac source of the received frame', () => {
    expect(matches('-m mac --mac-source 0a:0b:0c:0d:0e:0f', {}, {})).toBe(false);
    const c = ctx({ macSrc: 0x0a0b0c0d0e0f });
    c.skb.dev = eth0;
    expect(allMatch(ruleOf('-A INPUT -m mac --mac-source 0A:0B:0C:0D:0E:0F'), c)).toBe(true);
    expect(allMatch(ruleOf('-A INPUT -m mac ! --mac-source 0a:0b:0c:0d:0e:0e'), c)).toBe(true);
  });

  it('limit: a token bucket in virtual time', () => {
    const r = ruleOf('-A INPUT -m limit --limit 2/sec --limit-burst 3');
    const at = (t: number) => allMatch(r, ctx({}, { now: t }));
    expect([at(0), at(0), at(0), at(0)]).toEqual([true, true, true, false]);
    expect(at(0.4e9)).toBe(false);
    expect(at(0.5e9)).toBe(true);
    expect(at(0.6e9)).toBe(false);
    expect([at(10e9), at(10e9), at(10e9), at(10e9)]).toEqual([true, true, true, false]);
  });

  it('nfacct counts packets and bytes, listed like nfacct list', () => {
    const nns = k.addNetns('acct');
    nfacctStore(nns).add('http');
    const r = ruleOf('-A INPUT -m nfacct --nfacct-name http');
    for (let i = 0; i < 3; i++) expect(allMatch(r, makeCtx(makeSkb({ payload: 10 }), { ns: nns }))).toBe(true);
    expect(nfacctStore(nns).list()).toBe('{ pkts = 00000000000000000003, bytes = 00000000000000000150 } = http;\n');
    expect(new NfacctStore().list()).toBe('');
  });

  it('comment always matches', () => {
    expect(matches('-m comment --comment "x"', {})).toBe(true);
  });
});
