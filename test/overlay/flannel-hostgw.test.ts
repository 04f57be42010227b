import { describe, expect, it } from 'vitest';
import { runUntilDone } from '../../src/index.js';
import { iptablesSave } from '../../src/iptables/index.js';
import { ping } from '../../src/netns/ping.js';
import { showRoutes } from '../../src/netns/show.js';
import { formatCidr } from '../../src/wire/addr.js';
import { sh } from '../cni/helpers.js';
import { ip, testCluster } from './cluster.js';

const HOSTGW = '{"Network": "10.244.0.0/16", "Backend": {"Type": "host-gw"}}';

function podIp(result: { ips?: { address: string }[] }): string {
  return result.ips![0]!.address.split('/')[0]!;
}

describe('flannel host-gw on two nodes of one segment', () => {
  it('routes each pod subnet through the other node and pods ping across', () => {
    const c = testCluster(HOSTGW);
    const n1 = c.join('n1', 1);
    const n2 = c.join('n2', 2);
    expect(c.net.leases().map((l) => `${l.node} ${formatCidr(l.subnet)}`)).toEqual([
      'n1 10.244.0.0/24',
      'n2 10.244.1.0/24',
    ]);
    expect(c.net.annotations('n2')).toEqual({
      'flannel.alpha.coreos.com/backend-data': 'null',
      'flannel.alpha.coreos.com/backend-type': 'host-gw',
      'flannel.alpha.coreos.com/kube-subnet-manager': 'true',
      'flannel.alpha.coreos.com/public-ip': '192.168.50.12',
    });
    expect(n1.fs.read('/run/flannel/subnet.env')).toBe(
      'FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.0.1/24\nFLANNEL_MTU=1500\nFLANNEL_IPMASQ=true\n',
    );
    expect(showRoutes(c.k.netns('n1'))).toContain('10.244.1.0/24 via 192.168.50.12 dev eth0');
    expect(showRoutes(c.k.netns('n2'))).toContain('10.244.0.0/24 via 192.168.50.11 dev eth0');

    const a = n1.node.addPod('a');
    const b = n2.node.addPod('b');
    expect(podIp(a.result)).toBe('10.244.0.2');
    expect(podIp(b.result)).toBe('10.244.1.2');
    const p = runUntilDone(c.k, ping(a.netns, ip(podIp(b.result)), { count: 2 }));
    expect(p.outcome.result).toBe('reachable');
    // pod → cni0 → n1 forwards → n2 forwards → cni0 → pod: two routers.
    expect(p.outcome.replyTtl).toBe(62);
    // The node reaches a remote pod directly too (its source is its eth0 address: no flannel device here).
    const q = runUntilDone(c.k, ping(c.k.netns('n1'), ip('10.244.1.2')));
    expect(q.outcome.result).toBe('reachable');
    expect(q.outcome.replyTtl).toBe(63);
  });

  it('records what flanneld did, in order, as commands', () => {
    const c = testCluster(HOSTGW);
    const n1 = c.join('n1', 1);
    c.join('n2', 2);
    const cmds = c.net.flanneld('n1')!.commands();
    expect(cmds[0]).toBe("iptables-restore --noflush <<'EOF'\nEOF");
    expect(cmds.slice(1, 3)).toEqual([
      'iptables -t nat -N FLANNEL-POSTRTG',
      expect.stringMatching(/^iptables-restore/),
    ]);
    expect(cmds.slice(3, 5)).toEqual(['iptables -t filter -N FLANNEL-FWD', expect.stringMatching(/^iptables-restore/)]);
    expect(cmds.slice(5)).toEqual(['ip route add 10.244.1.0/24 via 192.168.50.12 dev eth0']);
    // n2 learned about n1 from the initial list, n1 about n2 when n2 acquired its lease.
    expect(c.net.flanneld('n2')!.commands().slice(-1)).toEqual([
      'ip route add 10.244.0.0/24 via 192.168.50.11 dev eth0',
    ]);
    expect(n1.fs.exists('/run/flannel/subnet.env')).toBe(true);
  });

  it('a node leaving takes its route away from the others; a later node reuses nothing early', () => {
    const c = testCluster(HOSTGW);
    c.join('n1', 1);
    c.join('n2', 2);
    c.join('n3', 3);
    c.net.leave('n2');
    const n1 = c.net.flanneld('n1')!;
    expect(n1.commands().slice(-1)).toEqual(['ip route del 10.244.1.0/24 via 192.168.50.12 dev eth0']);
    expect(showRoutes(c.k.netns('n1'))).not.toContain('10.244.1.0/24');
    expect(showRoutes(c.k.netns('n1'))).toContain('10.244.2.0/24 via 192.168.50.13 dev eth0');
    // kube-controller-manager goes on from the block after the last one it gave out.
    c.join('n4', 4);
    expect(formatCidr(c.net.flanneld('n4')!.lease.subnet)).toBe('10.244.3.0/24');
  });

  it('replaces a differing route to a lease subnet', () => {
    const c = testCluster(HOSTGW);
    c.join('n1', 1);
    c.addNode('n2', 2);
    // Something else routed n2's future subnet elsewhere.
    sh(c.k, 'ip -n n1 route add 10.244.1.0/24 via 192.168.50.99 dev eth0');
    c.net.flanneld('n1')!.log.ops.length = 0;
    c.net.join({ name: 'n2', host: c.k.netns('n2'), iface: 'eth0', fs: c.nodes.get('n2')!.fs });
    expect(c.net.flanneld('n1')!.commands()).toEqual([
      'ip route del 10.244.1.0/24 via 192.168.50.99 dev eth0',
      'ip route add 10.244.1.0/24 via 192.168.50.12 dev eth0',
    ]);
  });

  it('iptables-save shows flannel’s chains and rules', () => {
    const c = testCluster(HOSTGW);
    c.join('n1', 1);
    const save = iptablesSave(c.k.netns('n1'));
    const rules = save.split('\n').filter((l) => l.startsWith('-A') || l.startsWith(':FLANNEL') || l.startsWith('*'));
    expect(rules).toEqual([
      '*filter',
      ':FLANNEL-FWD - [0:0]',
      '-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD',
      '-A FLANNEL-FWD -s 10.244.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT',
      '-A FLANNEL-FWD -d 10.244.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT',
      '*nat',
      ':FLANNEL-POSTRTG - [0:0]',
      '-A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG',
      '-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment "flanneld masq" -j RETURN',
      '-A FLANNEL-POSTRTG -s 10.244.0.0/24 -d 10.244.0.0/16 -m comment --comment "flanneld masq" -j RETURN',
      '-A FLANNEL-POSTRTG -s 10.244.0.0/16 -d 10.244.0.0/24 -m comment --comment "flanneld masq" -j RETURN',
      '-A FLANNEL-POSTRTG ! -s 10.244.0.0/16 -d 10.244.0.0/24 -m comment --comment "flanneld masq" -j RETURN',
      '-A FLANNEL-POSTRTG -s 10.244.0.0/16 ! -d 224.0.0.0/4 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully',
      '-A FLANNEL-POSTRTG ! -s 10.244.0.0/16 -d 10.244.0.0/16 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully',
    ]);
  });
});
