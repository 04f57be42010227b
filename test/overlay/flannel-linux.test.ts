// flanneld's recorded commands replayed in real namespaces (root only): Linux must accept every one of them and end
// in the same routes and iptables rules as the emulated nodes.

import { afterEach, describe, expect, it } from 'vitest';
import { iptablesSave } from '../../src/iptables/index.js';
import { showNeigh, showRoutes } from '../../src/netns/show.js';
import { KUBE_FLANNEL_NET_CONF } from '../../src/overlay/flannel/config.js';
import { formatCidr, formatMac } from '../../src/wire/addr.js';
import { fdbOf, testCluster } from './cluster.js';
import { LinuxCluster, linuxUnavailable } from './linux-replay.js';

const why = linuxUnavailable();
if (why) console.log(`flannel replay in real namespaces skipped: ${why}`);

/** Lines in sorted order: Linux dumps neighbours and VXLAN FDB entries in hash-bucket order. */
function sorted(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.trimEnd())
    .sort();
}

/** iptables-save without its comment lines. */
function rules(text: string): string {
  return text
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .join('\n');
}

let lx: LinuxCluster | undefined;
afterEach(() => {
  lx?.cleanup();
  lx = undefined;
});

describe.skipIf(why !== null)('flannel commands in real namespaces', () => {
  it('host-gw: three nodes, one leaves — same routes and iptables rules as the emulation', () => {
    const c = testCluster('{"Network": "10.244.0.0/16", "Backend": {"Type": "host-gw"}}');
    const names = ['n1', 'n2', 'n3'];
    names.forEach((n, i) => {
      c.join(n, i + 1);
    });
    const n2ops = c.net.flanneld('n2')!.log.ops;
    c.net.leave('n2');
    lx = new LinuxCluster();
    lx.setup(names);
    for (const n of names) {
      const ops = n === 'n2' ? n2ops : c.net.flanneld(n)!.log.ops;
      for (const op of ops) {
        expect(op.error).toBeUndefined();
        lx.run(n, op);
      }
    }
    for (const n of names) {
      expect(lx.exec(lx.ns(n), 'ip route show'), n).toBe(showRoutes(c.k.netns(n)));
      expect(rules(lx.exec(lx.ns(n), 'iptables-save')), n).toBe(rules(iptablesSave(c.k.netns(n))));
    }
  });

  it('vxlan: three nodes, one leaves — same device, routes, neighbours, FDB and rules as the emulation', () => {
    const c = testCluster(KUBE_FLANNEL_NET_CONF);
    const names = ['n1', 'n2', 'n3'];
    names.forEach((n, i) => {
      c.join(n, i + 1);
    });
    const n2ops = c.net.flanneld('n2')!.log.ops;
    c.net.leave('n2');
    lx = new LinuxCluster();
    lx.setup(names);
    for (const n of names) {
      for (const op of n === 'n2' ? n2ops : c.net.flanneld(n)!.log.ops) {
        expect(op.error).toBeUndefined();
        lx.run(n, op);
      }
    }
    for (const n of names) {
      const real = lx.ns(n);
      const ns = c.k.netns(n);
      expect(lx.exec(real, 'ip route show'), n).toBe(showRoutes(ns));
      const neigh = showNeigh(ns)
        .split('\n')
        .filter((l) => l.includes(' dev flannel.1 '))
        .map((l) => l.replace(' dev flannel.1', ''))
        .join('\n');
      expect(sorted(lx.exec(real, 'ip neigh show dev flannel.1')), n).toEqual(sorted(neigh));
      expect(sorted(lx.exec(real, 'bridge fdb show dev flannel.1')), n).toEqual(sorted(fdbOf(ns)));
      const link = lx.exec(real, 'ip -d link show flannel.1');
      const dev = ns.dev('flannel.1');
      expect(link).toContain(`mtu ${dev.mtu} `);
      expect(link).toContain(`link/ether ${formatMac(dev.mac)} `);
      expect(link).toMatch(
        new RegExp(`vxlan id 1 local 192\\.168\\.50\\.1${names.indexOf(n) + 1} dev eth0 .*dstport 8472 nolearning`),
      );
      expect(lx.exec(real, 'ip -4 -o addr show dev flannel.1')).toContain(
        `inet ${formatCidr(ns.addrsOf(dev)[0]!)} scope global flannel.1`,
      );
      expect(rules(lx.exec(real, 'iptables-save')), n).toBe(rules(iptablesSave(ns)));
    }
  });

  it('vxlan options and DirectRouting: the kernel caps the MTU as the emulation does, direct routes are accepted', () => {
    const c = testCluster(
      '{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan","VNI":42,"Port":4789,"MTU":9000,"DirectRouting":true}}',
    );
    c.join('n1', 1);
    c.join('n2', 2);
    lx = new LinuxCluster();
    lx.setup(['n1', 'n2']);
    for (const n of ['n1', 'n2']) for (const op of c.net.flanneld(n)!.log.ops) lx.run(n, op);
    for (const n of ['n1', 'n2']) {
      const ns = c.k.netns(n);
      expect(lx.exec(lx.ns(n), 'ip route show'), n).toBe(showRoutes(ns));
      const link = lx.exec(lx.ns(n), 'ip -d link show flannel.42');
      expect(link).toContain(`mtu ${ns.dev('flannel.42').mtu} `);
      expect(link).toMatch(/vxlan id 42 .*dstport 4789 /);
    }
  });
});
