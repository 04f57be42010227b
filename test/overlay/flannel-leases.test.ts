import { describe, expect, it } from 'vitest';
import { MemFs } from '../../src/cni/fs.js';
import { parseNetConf } from '../../src/overlay/flannel/config.js';
import { formatLease, type LeaseEvent, vxlanBackendData } from '../../src/overlay/flannel/lease.js';
import { allocateOrOccupy, CidrSet, ERR_NO_CIDRS_REMAINING } from '../../src/overlay/flannel/range-allocator.js';
import { formatSubnetEnv, readCidrFromSubnetFile, writeSubnetFile } from '../../src/overlay/flannel/subnet-env.js';
import { FlannelError, KubeSubnetManager } from '../../src/overlay/flannel/subnet-manager.js';
import { type Cidr, formatCidr, parseCidr } from '../../src/wire/addr.js';
import { ip, testCluster } from './cluster.js';

const cidr = (s: string): Cidr => parseCidr(s)!;
const attrs = (pub: string) => ({ publicIp: ip(pub), backendType: 'host-gw', backendData: 'null' });

function sm(netConf = '{"Network":"10.244.0.0/16","Backend":{"Type":"host-gw"}}'): KubeSubnetManager {
  return new KubeSubnetManager(parseNetConf(netConf));
}

describe("kube-controller-manager's range allocator", () => {
  it('hands out blocks from the first one, goes on after the last one given, wraps around', () => {
    const set = new CidrSet(cidr('10.244.0.0/22'), 24);
    expect(formatCidr(set.allocateNext())).toBe('10.244.0.0/24');
    expect(formatCidr(set.allocateNext())).toBe('10.244.1.0/24');
    set.release(cidr('10.244.0.0/24'));
    expect(formatCidr(set.allocateNext())).toBe('10.244.2.0/24');
    set.occupy(cidr('10.244.3.0/24'));
    // Wraps to the freed first block.
    expect(formatCidr(set.allocateNext())).toBe('10.244.0.0/24');
    expect(() => set.allocateNext()).toThrow(ERR_NO_CIDRS_REMAINING);
    expect(() => allocateOrOccupy(set, undefined)).toThrow(
      `failed to allocate cidr from cluster cidr at idx:0: ${ERR_NO_CIDRS_REMAINING}`,
    );
    expect(() => set.occupy(cidr('10.245.0.0/24'))).toThrow(
      'cidr 10.245.0.0/24 is out the range of cluster cidr 10.244.0.0/22',
    );
  });
});

describe("flannel's Kubernetes subnet manager", () => {
  it('leases are the podCIDRs, given or allocated in node order from the first block', () => {
    const m = sm();
    m.registerNode('a', cidr('10.244.0.0/24'));
    m.registerNode('b');
    m.registerNode('c', cidr('10.244.7.0/24'));
    m.registerNode('d');
    expect(m.nodes().map((n) => `${n.name} ${formatCidr(n.podCidr!)}`)).toEqual([
      'a 10.244.0.0/24',
      'b 10.244.1.0/24',
      'c 10.244.7.0/24',
      'd 10.244.2.0/24',
    ]);
    const l = m.acquireLease('b', attrs('192.168.50.12'));
    expect(formatLease(l)).toBe('b 10.244.1.0/24 public-ip 192.168.50.12 host-gw null');
    expect(m.node('b')!.annotations).toEqual({
      'flannel.alpha.coreos.com/backend-data': 'null',
      'flannel.alpha.coreos.com/backend-type': 'host-gw',
      'flannel.alpha.coreos.com/kube-subnet-manager': 'true',
      'flannel.alpha.coreos.com/public-ip': '192.168.50.12',
    });
  });

  it('SubnetLen sets the node CIDR size; a small network is split as CheckNetworkConfig says', () => {
    const m = sm('{"Network":"10.10.0.0/24","Backend":{"Type":"host-gw"}}');
    for (const n of ['a', 'b', 'c', 'd']) m.registerNode(n);
    expect(m.nodes().map((n) => formatCidr(n.podCidr!))).toEqual([
      '10.10.0.0/26',
      '10.10.0.64/26',
      '10.10.0.128/26',
      '10.10.0.192/26',
    ]);
    // The fifth node gets none; its flanneld cannot get a lease.
    m.registerNode('e');
    const err = (() => {
      try {
        m.acquireLease('e', attrs('192.168.50.15'));
      } catch (e) {
        return e as FlannelError;
      }
      throw new Error('no error');
    })();
    expect(err).toBeInstanceOf(FlannelError);
    expect(err.message).toBe('node "e" pod cidr not assigned');
    expect(err.details).toBe(
      `kube-controller-manager: failed to allocate cidr from cluster cidr at idx:0: ${ERR_NO_CIDRS_REMAINING}`,
    );
  });

  it('refuses a podCIDR outside the Network with flannel’s words, and overlapping podCIDRs', () => {
    const m = sm();
    m.registerNode('a', cidr('10.245.1.0/24'));
    expect(() => m.acquireLease('a', attrs('192.168.50.11'))).toThrow(
      'subnet "10.244.0.0/16" specified in the flannel net config doesn\'t contain "10.245.1.0/24" PodCIDR of the "a" node',
    );
    m.registerNode('b', cidr('10.244.1.0/24'));
    expect(() => m.registerNode('c', cidr('10.244.0.0/23'))).toThrow(
      'podCIDR 10.244.0.0/23 of node "c" overlaps podCIDR 10.244.1.0/24 of node "b"',
    );
  });

  it('tells each watcher about the others, never about itself, and only on changes', () => {
    const m = sm();
    const seen = new Map<string, string[]>();
    const watch = (name: string) =>
      m.watchLeases(name, (batch: LeaseEvent[]) => {
        const list = seen.get(name) ?? [];
        list.push(...batch.map((e) => `${e.type} ${e.lease.node}`));
        seen.set(name, list);
      });
    for (const n of ['a', 'b', 'c']) m.registerNode(n);
    m.acquireLease('a', attrs('192.168.50.11'));
    watch('a');
    m.acquireLease('b', attrs('192.168.50.12'));
    watch('b');
    // Same attributes again (a restart): no event.
    m.acquireLease('b', attrs('192.168.50.12'));
    m.acquireLease('c', attrs('192.168.50.13'));
    watch('c');
    m.deleteNode('b');
    expect(Object.fromEntries(seen)).toEqual({
      a: ['added b', 'added c', 'removed b'],
      b: ['added a', 'added c'],
      c: ['added a', 'added b', 'removed b'],
    });
    // b's block is free again, but the allocator moves on first.
    m.registerNode('d');
    expect(formatCidr(m.node('d')!.podCidr!)).toBe('10.244.3.0/24');
  });

  it('vxlan backend data is vxlanLeaseAttrs as Go marshals it', () => {
    expect(vxlanBackendData(1, 0x0af100000001)).toBe('{"VNI":1,"VtepMAC":"0a:f1:00:00:00:01"}');
  });
});

describe('subnet.env', () => {
  it("is flanneld's four lines: network, first address of the lease, MTU, ipmasq", () => {
    expect(
      formatSubnetEnv({ network: cidr('10.244.0.0/16'), subnet: cidr('10.244.3.0/24'), mtu: 1450, ipMasq: true }),
    ).toBe('FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.3.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n');
  });

  it('is read back on restart as networks', () => {
    const fs = new MemFs();
    writeSubnetFile(fs, { network: cidr('10.244.0.0/16'), subnet: cidr('10.244.3.0/24'), mtu: 1500, ipMasq: false });
    expect(fs.isDir('/run/flannel')).toBe(true);
    expect(readCidrFromSubnetFile(fs, 'FLANNEL_SUBNET')).toEqual(cidr('10.244.3.0/24'));
    expect(readCidrFromSubnetFile(fs, 'FLANNEL_NETWORK')).toEqual(cidr('10.244.0.0/16'));
    expect(readCidrFromSubnetFile(fs, 'FLANNEL_IPV6_SUBNET')).toEqual({ addr: 0, len: 0 });
    expect(readCidrFromSubnetFile(new MemFs(), 'FLANNEL_SUBNET')).toEqual({ addr: 0, len: 0 });
  });
});

describe('flanneld start-up failures', () => {
  it('a node without a podCIDR cannot join, and leaves nothing behind', () => {
    const c = testCluster('{"Network":"10.244.0.0/30","SubnetLen":30,"Backend":{"Type":"host-gw"}}');
    const msg = (() => {
      try {
        c.join('n1', 1);
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    })();
    // CheckNetworkConfig refuses this network, so the controller manager could not cut it.
    expect(msg).toBe('Error registering network: failed to acquire lease: node "n1" pod cidr not assigned');
    expect(c.net.leases()).toEqual([]);
    expect(c.net.sm.node('n1')).toBeUndefined();
  });

  it('host-gw refuses a public IP that is not the interface’s', () => {
    const c = testCluster('{"Network":"10.244.0.0/16","Backend":{"Type":"host-gw"}}');
    const t = c.addNode('n1', 1);
    expect(() =>
      c.net.join({ name: 'n1', host: c.k.netns('n1'), iface: 'eth0', fs: t.fs, publicIp: ip('203.0.113.1') }),
    ).toThrow(
      "Error registering network: your PublicIP differs from interface IP, meaning that probably you're on a NAT, which is not supported by host-gw backend",
    );
  });

  it('an unknown interface is flannel’s interface lookup failure', () => {
    const c = testCluster('{"Network":"10.244.0.0/16","Backend":{"Type":"host-gw"}}');
    const t = c.addNode('n1', 1);
    expect(() => c.net.join({ name: 'n1', host: c.k.netns('n1'), iface: 'ens5', fs: t.fs })).toThrow(
      'Failed to find interface to use that matches the interfaces and/or regexes provided',
    );
  });
});
