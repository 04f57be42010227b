import { describe, expect, it } from 'vitest';
import { MemFs } from '../../src/cni/fs.js';
import { iptables, iptablesSave } from '../../src/iptables/index.js';
import { Kernel } from '../../src/netns/kernel.js';
import { forwardRules, IptablesManager, masqRules } from '../../src/overlay/flannel/iptables.js';
import { OpLog } from '../../src/overlay/flannel/oplog.js';
import { writeSubnetFile } from '../../src/overlay/flannel/subnet-env.js';
import { parseCidr } from '../../src/wire/addr.js';
import { testCluster } from './cluster.js';

const cidr = (s: string) => parseCidr(s)!;
const NONE = { addr: 0, len: 0 };

function rulesOf(save: string): string[] {
  return save.split('\n').filter((l) => l.startsWith('-A'));
}

function manager() {
  const k = new Kernel({ seed: 1 });
  const ns = k.addNetns('n');
  const log = new OpLog();
  return { ns, log, m: new IptablesManager(ns, log) };
}

describe("flannel's iptables rules", () => {
  it('masquerade without --random-fully when it is disabled', () => {
    const r = masqRules(cidr('10.244.0.0/16'), cidr('10.244.1.0/24'), false);
    expect(r.at(-1)!.rulespec.slice(-2)).toEqual(['-j', 'MASQUERADE']);
    expect(r).toHaveLength(7);
    expect(forwardRules(cidr('10.244.0.0/16')).map((x) => x.chain)).toEqual(['FORWARD', 'FLANNEL-FWD', 'FLANNEL-FWD']);
  });

  it('installs each set with one iptables-restore, re-installs a set with a missing rule on resync', () => {
    const { ns, log, m } = manager();
    m.setupMasqRules(cidr('10.244.0.0/16'), cidr('10.244.1.0/24'), NONE, NONE);
    expect(log.ops.map((o) => o.cmd)).toEqual([
      'iptables-restore --noflush',
      'iptables -t nat -N FLANNEL-POSTRTG',
      'iptables-restore --noflush',
    ]);
    expect(log.ops[2]!.input).toBe(
      [
        '*nat',
        '-A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG',
        '-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment "flanneld masq" -j RETURN',
        '-A FLANNEL-POSTRTG -s 10.244.1.0/24 -d 10.244.0.0/16 -m comment --comment "flanneld masq" -j RETURN',
        '-A FLANNEL-POSTRTG -s 10.244.0.0/16 -d 10.244.1.0/24 -m comment --comment "flanneld masq" -j RETURN',
        '-A FLANNEL-POSTRTG ! -s 10.244.0.0/16 -d 10.244.1.0/24 -m comment --comment "flanneld masq" -j RETURN',
        '-A FLANNEL-POSTRTG -s 10.244.0.0/16 ! -d 224.0.0.0/4 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully',
        '-A FLANNEL-POSTRTG ! -s 10.244.0.0/16 -d 10.244.0.0/16 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully',
        'COMMIT',
        '',
      ].join('\n'),
    );
    const before = rulesOf(iptablesSave(ns));
    // Someone deletes a rule and puts another in front of flannel's jump.
    iptables(ns, [
      '-t',
      'nat',
      '-D',
      'FLANNEL-POSTRTG',
      '-m',
      'mark',
      '--mark',
      '0x4000/0x4000',
      '-m',
      'comment',
      '--comment',
      'flanneld masq',
      '-j',
      'RETURN',
    ]);
    iptables(ns, ['-t', 'nat', '-I', 'POSTROUTING', '-j', 'ACCEPT']);
    m.resync();
    const last = log.ops.at(-1)!;
    expect(last.cmd).toBe('iptables-restore --noflush');
    // The jump that was there is deleted and appended again, so flannel's rules stay together and in order.
    expect(last.input!.split('\n').slice(0, 3)).toEqual([
      '*nat',
      '-D POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG',
      '-A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG',
    ]);
    const after = rulesOf(iptablesSave(ns));
    expect(after[0]).toBe('-A POSTROUTING -j ACCEPT');
    expect(after.slice(1, 2)).toEqual(before.slice(0, 1));
    expect(after.filter((l) => l.includes('FLANNEL-POSTRTG -'))).toEqual(
      before.filter((l) => l.includes('FLANNEL-POSTRTG -')),
    );
    // Nothing missing: resync does nothing.
    const n = log.ops.length;
    m.resync();
    expect(log.ops.length).toBe(n);
  });

  it('a restart with another lease deletes the old subnet’s rules first', () => {
    const { ns, log, m } = manager();
    m.setupMasqRules(cidr('10.244.0.0/16'), cidr('10.244.1.0/24'), NONE, NONE);
    m.setupMasqRules(cidr('10.244.0.0/16'), cidr('10.244.5.0/24'), cidr('10.244.0.0/16'), cidr('10.244.1.0/24'));
    const teardown = log.ops[3]!;
    expect(teardown.input!.split('\n').filter((l) => l.startsWith('-D'))).toHaveLength(7);
    expect(log.ops[4]!.cmd).toBe('iptables -t nat -F FLANNEL-POSTRTG');
    const save = rulesOf(iptablesSave(ns));
    expect(save.filter((l) => l.includes('10.244.1.0/24'))).toEqual([]);
    expect(save.filter((l) => l.includes('10.244.5.0/24'))).toHaveLength(3);
    expect(save.filter((l) => l.startsWith('-A POSTROUTING'))).toHaveLength(1);
  });

  it('flanneld reads the previous network and subnet from subnet.env', () => {
    const c = testCluster('{"Network":"10.244.0.0/16","Backend":{"Type":"host-gw"}}');
    const t = c.addNode('n1', 1);
    // A previous run of flanneld on this node had another lease.
    writeSubnetFile(t.fs, { network: cidr('10.244.0.0/16'), subnet: cidr('10.244.9.0/24'), mtu: 1500, ipMasq: true });
    new IptablesManager(c.k.netns('n1'), new OpLog()).setupMasqRules(
      cidr('10.244.0.0/16'),
      cidr('10.244.9.0/24'),
      NONE,
      NONE,
    );
    c.net.join({ name: 'n1', host: c.k.netns('n1'), iface: 'eth0', fs: t.fs });
    const save = iptablesSave(c.k.netns('n1'));
    expect(save).not.toContain('10.244.9.0/24');
    expect(save).toContain('-A FLANNEL-POSTRTG -s 10.244.0.0/24 -d 10.244.0.0/16');
    expect(t.fs.read('/run/flannel/subnet.env')).toContain('FLANNEL_SUBNET=10.244.0.1/24');
    expect(new MemFs().exists('/run/flannel/subnet.env')).toBe(false);
  });

  it('without --ip-masq only the forward rules are there, and subnet.env says so', () => {
    const c = testCluster('{"Network":"10.244.0.0/16","Backend":{"Type":"host-gw"}}', { ipMasq: false });
    const t = c.join('n1', 1);
    const save = iptablesSave(c.k.netns('n1'));
    expect(save).not.toContain('FLANNEL-POSTRTG');
    expect(save).toContain(':FLANNEL-FWD');
    expect(t.fs.read('/run/flannel/subnet.env')).toContain('FLANNEL_IPMASQ=false');
  });
});
