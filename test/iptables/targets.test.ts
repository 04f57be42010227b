import { describe, expect, it } from 'vitest';
import { formatLogText } from '../../src/iptables/targets/log.js';
import { Kernel } from '../../src/netns/kernel.js';
import { createDummy } from '../../src/netns/link.js';
import { conntrackEntry, ip, makeCtx, makeSkb, type PacketSpec, ruleOf } from './packet.js';

const k = new Kernel({ seed: 5 });
const ns = k.addNetns('t');
const eth0 = createDummy(ns, 'eth0');
const eth1 = createDummy(ns, 'eth1');

const run = (rule: string, p: PacketSpec = {}, o: Partial<Parameters<typeof makeCtx>[1]> = {}) => {
  const c = makeCtx(makeSkb(p), { ns, ...o });
  const result = ruleOf(rule).target!.run(c);
  return { c, result };
};

describe('verdicts and jumps', () => {
  it('returns what the engine must do', () => {
    expect(run('-A INPUT -j ACCEPT').result).toEqual({ kind: 'accept' });
    expect(run('-A INPUT -j DROP').result).toEqual({ kind: 'drop' });
    expect(run('-A INPUT -j RETURN').result).toEqual({ kind: 'return' });
    expect(run('-A INPUT -j KUBE-SERVICES').result).toEqual({ kind: 'jump', chain: 'KUBE-SERVICES' });
    expect(run('-A INPUT -g KUBE-SERVICES').result).toEqual({ kind: 'goto', chain: 'KUBE-SERVICES' });
    const t = ruleOf('-A INPUT -g X').target!;
    expect([t.jumpTo, t.goto]).toEqual(['X', true]);
  });
});

describe('MARK and CONNMARK', () => {
  const mark = (rule: string, start: number) => {
    const { c, result } = run(`-t mangle -A PREROUTING -j MARK ${rule}`);
    c.skb.mark = start;
    ruleOf(`-t mangle -A PREROUTING -j MARK ${rule}`).target!.run(c);
    expect(result).toEqual({ kind: 'continue' });
    return c.skb.mark;
  };

  it('computes (mark & ~mask) ^ value', () => {
    expect(mark('--set-mark 0x10', 0xff00)).toBe(0x10);
    expect(mark('--set-mark 0x10/0xf0', 0xff0f)).toBe(0xff1f);
    expect(mark('--set-xmark 0x1/0x3', 0x6)).toBe(0x5);
    expect(mark('--or-mark 0x4000', 0x1)).toBe(0x4001);
    expect(mark('--and-mark 0xff', 0x4011)).toBe(0x11);
    expect(mark('--xor-mark 0x4000', 0x4001)).toBe(0x1);
  });

  it('sets, saves and restores the connection mark', () => {
    const ct = conntrackEntry({ mark: 0xf0 });
    const c = makeCtx(makeSkb({}), { ns, ct });
    c.skb.mark = 0x4001;
    ruleOf('-t mangle -A PREROUTING -j CONNMARK --save-mark --mask 0xff').target!.run(c);
    expect(ct.mark).toBe(0x01);
    ruleOf('-t mangle -A PREROUTING -j CONNMARK --set-xmark 0x30/0xf0').target!.run(c);
    expect(ct.mark).toBe(0x31);
    c.skb.mark = 0x4000;
    ruleOf('-t mangle -A PREROUTING -j CONNMARK --restore-mark --nfmask 0xff --ctmask 0xf0').target!.run(c);
    expect(c.skb.mark).toBe(0x4030);
    ruleOf('-t mangle -A PREROUTING -j CONNMARK --or-mark 0x100').target!.run(c);
    expect(ct.mark).toBe(0x131);
    const none = makeCtx(makeSkb({}), { ns });
    expect(ruleOf('-A INPUT -j CONNMARK --set-mark 1').target!.run(none)).toEqual({ kind: 'continue' });
  });
});

describe('REJECT, NAT, NOTRACK, TRACE', () => {
  it('REJECT asks for the error, then drops', () => {
    const { c, result } = run('-A INPUT -p tcp -j REJECT --reject-with tcp-reset');
    expect(result).toEqual({ kind: 'drop' });
    expect(c.rec.reject).toEqual(['tcp-reset']);
    expect(run('-A INPUT -j REJECT').c.rec.reject).toEqual(['icmp-port-unreachable']);
    expect(run('-A INPUT -j REJECT --reject-with host-prohib').c.rec.reject).toEqual(['icmp-host-prohibited']);
  });

  it('NAT targets hand their range to the engine and follow its answer', () => {
    const d = run('-t nat -A PREROUTING -p tcp -j DNAT --to-destination 10.244.1.5-10.244.1.6:8080-8081 --random');
    expect(d.result).toEqual({ kind: 'accept' });
    expect(d.c.rec.nat).toEqual([
      {
        kind: 'DNAT',
        range: {
          minIp: ip('10.244.1.5'),
          maxIp: ip('10.244.1.6'),
          minPort: 8080,
          maxPort: 8081,
          mapIps: true,
          mapPorts: true,
          random: true,
          randomFully: false,
          persistent: false,
        },
      },
    ]);
    const m = run('-t nat -A POSTROUTING -j MASQUERADE --random-fully', {}, { natAnswer: 'drop' });
    expect(m.result).toEqual({ kind: 'drop' });
    expect(m.c.rec.nat[0]!.kind).toBe('MASQUERADE');
    expect(m.c.rec.nat[0]!.range.mapIps).toBe(false);
    expect(m.c.rec.nat[0]!.range.randomFully).toBe(true);
    const r = run('-t nat -A OUTPUT -p udp -j REDIRECT --to-ports 5353');
    expect(r.c.rec.nat[0]!.range).toMatchObject({ mapPorts: true, minPort: 5353, maxPort: 5353, mapIps: false });
    expect(run('-t nat -A POSTROUTING -j SNAT --to-source 192.0.2.1').c.rec.nat[0]!.range).toMatchObject({
      minIp: ip('192.0.2.1'),
      maxIp: ip('192.0.2.1'),
      mapPorts: false,
    });
  });

  it('NOTRACK, CT --notrack and TRACE call the engine and continue', () => {
    for (const t of ['-j NOTRACK', '-j CT --notrack']) {
      const { c, result } = run(`-t raw -A PREROUTING ${t}`);
      expect(result).toEqual({ kind: 'continue' });
      expect(c.rec.notrack).toBe(1);
    }
    expect(run('-t raw -A PREROUTING -j CT').c.rec.notrack).toBe(0);
    expect(run('-t raw -A PREROUTING -j TRACE').c.rec.trace).toBe(1);
  });
});

describe('LOG', () => {
  it('writes the kernel log line for an ICMP echo received on eth0', () => {
    const { c, result } = run('-A INPUT -j LOG --log-prefix "ping: "', { proto: 'icmp' }, { inDev: eth0 });
    expect(result).toEqual({ kind: 'continue' });
    expect(c.rec.log).toEqual([
      {
        prefix: 'ping: ',
        text: 'IN=eth0 OUT= MAC=02:00:00:00:00:01:0a:0b:0c:0d:0e:0f:08:00 SRC=10.0.0.1 DST=10.0.0.2 LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=4242 DF PROTO=ICMP TYPE=8 CODE=0 ID=1 SEQ=1',
      },
    ]);
  });

  it('TCP with sequence numbers and options, forwarded', () => {
    const c = makeCtx(makeSkb({ flags: 0x12, seq: 7, ack: 9, tcpOptions: { mss: 1460 }, df: false }), {
      ns,
      hook: 'FORWARD',
      inDev: eth0,
      outDev: eth1,
    });
    c.skb.mark = 0x4000;
    expect(formatLogText(c, 0x01 | 0x02)).toBe(
      'IN=eth0 OUT=eth1 MAC=02:00:00:00:00:01:0a:0b:0c:0d:0e:0f:08:00 SRC=10.0.0.1 DST=10.0.0.2 LEN=44 TOS=0x00 PREC=0x00 TTL=64 ID=4242 PROTO=TCP SPT=1234 DPT=80 SEQ=7 ACK=9 WINDOW=64240 RES=0x00 ACK SYN URGP=0 OPT (020405B4) MARK=0x4000',
    );
  });

  it('UDP sent from this host, with --log-macdecode (no MAC on output)', () => {
    const c = makeCtx(makeSkb({ proto: 'udp', dport: 53, payload: 12 }), { ns, hook: 'OUTPUT', outDev: eth0 });
    expect(formatLogText(c, 0x20)).toBe(
      'IN= OUT=eth0 SRC=10.0.0.1 DST=10.0.0.2 LEN=40 TOS=0x00 PREC=0x00 TTL=64 ID=4242 DF PROTO=UDP SPT=1234 DPT=53 LEN=20',
    );
    const r = makeCtx(makeSkb({ proto: 'udp' }), { ns, inDev: eth0 });
    expect(formatLogText(r, 0x20)).toContain('MACSRC=0a:0b:0c:0d:0e:0f MACDST=02:00:00:00:00:01 MACPROTO=0800 SRC=');
  });

  it('an ICMP error quotes the packet it is about', () => {
    const quoted = makeSkb({ proto: 'udp', src: '10.0.0.2', dst: '10.0.0.1', sport: 40000, dport: 53 });
    const bytes = quoted.buf.slice(quoted.nh, quoted.nh + 28);
    const c = makeCtx(makeSkb({ proto: 'icmp', icmpType: 3, icmpCode: 3, icmpRest: 0, icmpQuote: bytes }), {
      ns,
      inDev: eth0,
      physIn: eth1,
      bridged: true,
    });
    expect(formatLogText(c, 0)).toBe(
      'IN=eth0 OUT= PHYSIN=eth1 MAC=02:00:00:00:00:01:0a:0b:0c:0d:0e:0f:08:00 SRC=10.0.0.1 DST=10.0.0.2 LEN=56 TOS=0x00 PREC=0x00 TTL=64 ID=4242 DF PROTO=ICMP TYPE=3 CODE=3 [SRC=10.0.0.2 DST=10.0.0.1 LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=4242 DF PROTO=UDP SPT=40000 DPT=53 LEN=8 ]',
    );
  });

  it('a non-first fragment names only the protocol', () => {
    const c = makeCtx(makeSkb({ proto: 'tcp', fragOffset: 1480, df: false }), { ns, inDev: eth0 });
    expect(formatLogText(c, 0)).toMatch(/ID=4242 FRAG:185 PROTO=TCP$/);
  });
});
