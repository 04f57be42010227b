import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Node } from '../../src/cni/node.js';
import { loopbackPlugin } from '../../src/cni/plugins/loopback.js';
import { registerPlugin, unregisterPlugin } from '../../src/cni/registry.js';
import { printResult } from '../../src/cni/spec/index.js';
import { CniError, type Plugin } from '../../src/cni/types.js';
import { enableNetfilter } from '../../src/iptables/index.js';
import { Kernel } from '../../src/netns/kernel.js';
import { showAddrsBrief } from '../../src/netns/show.js';
import { registerTestPtp, sh } from './helpers.js';

const CONFLIST = JSON.stringify({
  cniVersion: '1.0.0',
  name: 'testnet',
  plugins: [{ type: 'test-ptp' }, { type: 'portmap', capabilities: { portMappings: true } }],
});

let log: string[];
let ptp: Plugin;
beforeEach(() => {
  log = [];
  ptp = registerTestPtp(log);
});
afterEach(() => {
  unregisterPlugin('test-ptp');
});

function node(seed = 5): { k: Kernel; node: Node } {
  const k = new Kernel({ seed });
  enableNetfilter(k);
  sh(k, 'ip netns add node1\nip -n node1 link set lo up');
  const n = new Node(k, 'node1');
  n.writeConfig('10-testnet.conflist', CONFLIST);
  return { k, node: n };
}

describe('pods on a node', () => {
  it('get a containerd-style namespace, the loopback network, then the pod network with kubelet CNI_ARGS', () => {
    const { k, node: n } = node();
    let args: Record<string, string> = {};
    const spy: Plugin = {
      ...ptp,
      add: (c, rt, env) => {
        args = rt.args;
        return ptp.add(c, rt, env);
      },
    };
    registerPlugin(spy, { replace: true });
    const pod = n.addPod('web', { namespace: 'shop', args: { IP: '10.1.0.2' } });
    expect(pod.netns.name).toMatch(/^cni-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(pod.netnsPath).toBe(`/var/run/netns/${pod.netns.name}`);
    expect(k.namespaces.has(pod.netns.name)).toBe(true);
    expect(pod.containerId).toMatch(/^[0-9a-f]{64}$/);
    expect(pod.uid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(args).toEqual({
      IgnoreUnknown: '1',
      K8S_POD_NAMESPACE: 'shop',
      K8S_POD_NAME: 'web',
      K8S_POD_INFRA_CONTAINER_ID: pod.containerId,
      K8S_POD_UID: pod.uid,
      IP: '10.1.0.2',
    });
    // lo is up with the address the kernel gives it; eth0 carries the pod address.
    const addrs = showAddrsBrief(pod.netns);
    expect(addrs).toMatch(/^lo +UNKNOWN +127\.0\.0\.1\/8/m);
    expect(addrs).toMatch(/^eth0@\S+ +UP +10\.1\.0\.2\/24/m);
    expect(n.fs.list('/var/lib/cni/results')).toEqual([
      `cni-loopback-${pod.containerId}-lo`,
      `testnet-${pod.containerId}-eth0`,
    ]);
    expect(pod.result.ips).toEqual([{ address: '10.1.0.2/24', gateway: '169.254.1.1', interface: 1 }]);
  });

  it('the loopback network reports lo as the reference plugin does, in its 0.3.1 shape', () => {
    const { node: n } = node();
    const pod = n.addPod('web', { args: { IP: '10.1.0.2' } });
    const lo = pod.attachments[0]!;
    expect(lo.net.list.name).toBe('cni-loopback');
    expect(printResult(lo.result, '0.3.1')).toBe(
      [
        '{',
        '    "cniVersion": "0.3.1",',
        '    "interfaces": [',
        '        {',
        '            "name": "lo",',
        '            "mac": "00:00:00:00:00:00",',
        `            "sandbox": "/var/run/netns/${pod.netns.name}"`,
        '        }',
        '    ],',
        '    "ips": [',
        '        {',
        '            "version": "4",',
        '            "interface": 0,',
        '            "address": "127.0.0.1/8"',
        '        }',
        '    ],',
        '    "dns": {}',
        '}',
      ].join('\n'),
    );
  });

  it('identifiers are the same on every run and differ between pods', () => {
    const a = node(5).node.addPod('web', { args: { IP: '10.1.0.2' } });
    const b = node(5).node.addPod('web', { args: { IP: '10.1.0.2' } });
    expect([b.containerId, b.uid, b.netns.name]).toEqual([a.containerId, a.uid, a.netns.name]);
    const { node: n } = node(5);
    const c = n.addPod('db', { args: { IP: '10.1.0.3' } });
    const d = n.addPod('web', { namespace: 'other', args: { IP: '10.1.0.4' } });
    expect(new Set([a.containerId, c.containerId, d.containerId]).size).toBe(3);
    expect(node(6).node.addPod('web', { args: { IP: '10.1.0.2' } }).containerId).not.toBe(a.containerId);
  });

  it('CHECK passes while the pod is intact and fails when something went missing', () => {
    const { k, node: n } = node();
    const pod = n.addPod('web', { args: { IP: '10.1.0.2' } });
    n.checkPod('web');
    expect(log.filter((l) => l.startsWith('CHECK'))).toHaveLength(1);
    sh(k, `ip -n node1 link del veth${pod.containerId.slice(0, 8)}`);
    expect(() => n.checkPod('web')).toThrow('host veth is missing');
    // cni-loopback is a 0.3.1 list, which has no CHECK; its plugin can still be asked directly.
    sh(k, `ip -n ${pod.netns.name} link set lo down`);
    const lo = pod.attachments[0]!;
    expect(() =>
      loopbackPlugin.check(lo.net.list.plugins[0]!, { ...lo.rt, args: {}, capabilityArgs: {} }, n.env),
    ).toThrow('loopback interface is down');
  });

  it('deleting a pod runs DEL for both networks and removes its namespace and cache entries', () => {
    const { k, node: n } = node();
    const pod = n.addPod('web', { args: { IP: '10.1.0.2' } });
    n.deletePod('web');
    expect(k.namespaces.has(pod.netns.name)).toBe(false);
    expect(n.fs.list('/var/lib/cni/results')).toEqual([]);
    expect(k.netns('node1').devs.has(`veth${pod.containerId.slice(0, 8)}`)).toBe(false);
    expect(log).toEqual([`ADD ${pod.containerId.slice(0, 8)} eth0`, `DEL ${pod.containerId.slice(0, 8)} eth0`]);
    expect(n.pod('web')).toBeUndefined();
    expect(() => n.deletePod('web')).toThrow(new CniError(3, 'pod default/web has no sandbox on node node1'));
  });

  it('a failing ADD leaves nothing behind: networks deleted, namespace gone, no cache', () => {
    const { k, node: n } = node();
    const before = [...k.namespaces.keys()];
    try {
      n.addPod('web');
      expect.unreachable();
    } catch (e) {
      expect((e as CniError).code).toBe(7);
      expect((e as CniError).message).toBe(
        'plugin type="test-ptp" failed (add): test-ptp needs an address (CNI_ARGS IP or "address")',
      );
    }
    expect([...k.namespaces.keys()]).toEqual(before);
    expect(n.fs.list('/var/lib/cni/results')).toEqual([]);
    expect(n.pods()).toEqual([]);
    // The pod network's own clean-up ran DEL for its whole list.
    expect(log.filter((l) => l.startsWith('DEL'))).toHaveLength(1);
  });

  it('uses the lexically first configuration file and reports a missing one', () => {
    const k = new Kernel({ seed: 1 });
    sh(k, 'ip netns add node1');
    const n = new Node(k, 'node1');
    expect(() => n.addPod('web')).toThrow('no network config found in /etc/cni/net.d: cni plugin not initialized');
    n.writeConfig('20-second.conflist', CONFLIST.replace('testnet', 'second'));
    n.writeConfig(
      '05-first.conf',
      JSON.stringify({ cniVersion: '0.4.0', name: 'first', type: 'test-ptp', address: '10.9.0.2' }),
    );
    const pod = n.addPod('web');
    expect(pod.attachments.map((a) => a.net.list.name)).toEqual(['cni-loopback', 'first']);
    expect(pod.result.cniVersion).toBe('0.4.0');
  });

  it('the loopback plugin passes a previous result through', () => {
    const prev = { cniVersion: '1.0.0', ips: [{ address: '10.1.0.2/24' }] };
    const k = new Kernel({ seed: 1 });
    const ns = k.addNetns('p');
    const out = loopbackPlugin.add(
      { cniVersion: '1.0.0', name: 'n', type: 'loopback', prevResult: prev },
      { containerId: 'x', netns: ns, ifName: 'eth0', args: {}, capabilityArgs: {} },
      { kernel: k, host: k.root, fs: new Node(k, k.root).fs },
    );
    expect(out).toEqual(prev);
    expect(ns.lo.adminUp).toBe(true);
  });
});
