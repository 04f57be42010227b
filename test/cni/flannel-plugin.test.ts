import { describe, expect, it } from 'vitest';
import { delegateAdd } from '../../src/cni/delegate.js';
import { MemFs } from '../../src/cni/fs.js';
import { Node } from '../../src/cni/node.js';
import { buildDelegate, loadFlannelPluginConf } from '../../src/cni/plugins/flannel/conf.js';
import { loadFlannelSubnetEnv } from '../../src/cni/plugins/flannel/subnet-env.js';
import { KUBE_FLANNEL_CNI_CONF, KUBE_FLANNEL_CNI_CONF_NAME } from '../../src/cni/plugins/flannel.js';
import { CniError, type NetConf } from '../../src/cni/types.js';
import { enableNetfilter } from '../../src/iptables/index.js';
import { Kernel } from '../../src/netns/kernel.js';
import { showRoutes } from '../../src/netns/show.js';
import { formatSubnetEnv } from '../../src/overlay/flannel/subnet-env.js';
import { parseCidr } from '../../src/wire/addr.js';
import { sh } from './helpers.js';

const ENV = formatSubnetEnv({
  network: parseCidr('10.244.0.0/16')!,
  subnet: parseCidr('10.244.1.0/24')!,
  mtu: 1450,
  ipMasq: true,
});

function fsWith(env: string | null = ENV): MemFs {
  const fs = new MemFs();
  if (env !== null) fs.write('/run/flannel/subnet.env', env);
  return fs;
}

/** The delegate bytes for plugin configuration `conf` (name and cniVersion as the runtime injects them). */
function delegateOf(conf: Record<string, unknown>, env = ENV): string {
  const nc = { cniVersion: '0.3.1', name: 'cbr0', type: 'flannel', ...conf } as NetConf;
  return buildDelegate(loadFlannelPluginConf(nc), loadFlannelSubnetEnv(fsWith(env), '/run/flannel/subnet.env')).bytes;
}

function node(env: string | null = ENV, conflist = KUBE_FLANNEL_CNI_CONF) {
  const k = new Kernel({ seed: 11 });
  k.tracer.tracing = false;
  enableNetfilter(k);
  sh(k, 'ip netns add n1\nip -n n1 link set lo up');
  const fs = fsWith(env);
  const n = new Node(k, 'n1', { fs });
  n.writeConfig(KUBE_FLANNEL_CNI_CONF_NAME, conflist);
  return { k, n, fs };
}

function cniError(fn: () => unknown): CniError {
  try {
    fn();
  } catch (e) {
    if (e instanceof CniError) return e;
    throw e;
  }
  throw new Error('no error');
}

describe('subnet.env as the flannel plugin reads it', () => {
  it('reads the subnet as its network and the networks deduplicated', () => {
    const e = loadFlannelSubnetEnv(
      fsWith(
        'FLANNEL_NETWORK=10.244.0.0/16,10.244.0.0/16\r\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=TRUE\n',
      ),
      '/run/flannel/subnet.env',
    );
    expect(e).toEqual({
      networks: [{ addr: 0x0af40000, len: 16 }],
      subnet: { addr: 0x0af40100, len: 24 },
      mtu: 1450,
      ipMasq: false,
    });
  });

  it.each([
    [null, 'open /run/flannel/subnet.env: no such file or directory'],
    [
      'FLANNEL_MTU=1450\n',
      '/run/flannel/subnet.env is missing FLANNEL_NETWORK, FLANNEL_IPV6_NETWORK, FLANNEL_SUBNET, FLANNEL_IPV6_SUBNET, FLANNEL_IPMASQ',
    ],
    ['FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1\n', 'invalid CIDR address: 10.244.1.1'],
    ['FLANNEL_MTU=-1\n', 'strconv.ParseUint: parsing "-1": invalid syntax'],
  ])('%j → %s', (text, msg) => {
    expect(() => loadFlannelSubnetEnv(fsWith(text), '/run/flannel/subnet.env')).toThrow(msg);
  });
});

describe('the delegate configuration', () => {
  it("kube-flannel's conflist gives exactly what flannel saves on real nodes", () => {
    expect(delegateOf({ delegate: { hairpinMode: true, isDefaultGateway: true } })).toBe(
      '{"cniVersion":"0.3.1","hairpinMode":true,"ipMasq":false,"ipam":{"ranges":[[{"subnet":"10.244.1.0/24"}]],"routes":[{"dst":"10.244.0.0/16"}],"type":"host-local"},"isDefaultGateway":true,"isGateway":true,"mtu":1450,"name":"cbr0","type":"bridge"}',
    );
  });

  it('keeps what the delegate sets, takes ipam from the plugin and appends the network routes to its own', () => {
    const env = ENV.replace('FLANNEL_IPMASQ=true', 'FLANNEL_IPMASQ=false');
    expect(
      delegateOf(
        {
          delegate: {
            type: 'bridge',
            ipMasq: false,
            mtu: 1400,
            isGateway: false,
            bridge: 'cbr0',
            zz: { b: 1, a: [2.5] },
          },
          ipam: { routes: [{ dst: '192.168.9.7/24', gw: '10.244.1.1', mtu: 0, table: 0 }], dataDir: '/tmp/x' },
          runtimeConfig: { portMappings: [] },
        },
        env,
      ),
    ).toBe(
      '{"bridge":"cbr0","cniVersion":"0.3.1","ipMasq":false,"ipam":{"dataDir":"/tmp/x","ranges":[[{"subnet":"10.244.1.0/24"}]],"routes":[{"dst":"192.168.9.7/24","gw":"10.244.1.1","table":0},{"dst":"10.244.0.0/16"}],"type":"host-local"},"isGateway":false,"mtu":1400,"name":"cbr0","runtimeConfig":{"portMappings":[]},"type":"bridge","zz":{"a":[2.5],"b":1}}',
    );
    // Without a delegate section, ipMasq follows !FLANNEL_IPMASQ.
    expect(delegateOf({}, env)).toContain('"ipMasq":true');
    // Another delegate type gets no isGateway.
    expect(delegateOf({ delegate: { type: 'ipvlan' } })).not.toContain('isGateway');
  });

  it.each([
    [{ delegate: { type: 1 } }, "'delegate' dictionary, if present, must have (string) 'type' field"],
    [{ delegate: { name: 'x' } }, "'delegate' dictionary must not have 'name' field, it'll be set by flannel"],
    [{ delegate: { ipam: {} } }, "'delegate' dictionary must not have 'ipam' field, it'll be set by flannel"],
    [
      { delegate: 'bridge' },
      'failed to load netconf: json: cannot unmarshal string into Go struct field NetConf.delegate of type map[string]interface {}',
    ],
    [
      { ipam: { routes: [{ dst: 'x' }] } },
      'failed to assemble Delegate IPAM: failed to read IPAM routes: failed to parse ipam.routes: invalid CIDR address: x',
    ],
  ])('%j → %s', (conf, msg) => {
    expect(() => delegateOf(conf)).toThrow(msg);
  });
});

describe('the flannel plugin on a node', () => {
  it('delegates to bridge and host-local, saves the delegate for DEL and removes it after', () => {
    const { k, n, fs } = node();
    const pod = n.addPod('web');
    const saved = fs.read(`/var/lib/cni/flannel/${pod.containerId}`);
    expect(saved).toBe(
      '{"cniVersion":"0.3.1","hairpinMode":true,"ipMasq":false,"ipam":{"ranges":[[{"subnet":"10.244.1.0/24"}]],"routes":[{"dst":"10.244.0.0/16"}],"type":"host-local"},"isDefaultGateway":true,"isGateway":true,"mtu":1450,"name":"cbr0","type":"bridge"}',
    );
    expect(pod.result.cniVersion).toBe('0.3.1');
    expect(pod.result.ips).toEqual([{ interface: 2, address: '10.244.1.2/24', gateway: '10.244.1.1' }]);
    expect(pod.result.routes).toEqual([{ dst: '10.244.0.0/16' }, { dst: '0.0.0.0/0', gw: '10.244.1.1' }]);
    expect(pod.result.interfaces?.map((i) => i.name)).toEqual(['cni0', expect.stringMatching(/^veth/), 'eth0']);
    expect(k.netns('n1').dev('cni0').mtu).toBe(1450);
    expect(pod.netns.dev('eth0').mtu).toBe(1450);
    expect(showRoutes(pod.netns)).toBe(
      'default via 10.244.1.1 dev eth0 \n10.244.0.0/16 via 10.244.1.1 dev eth0 \n10.244.1.0/24 dev eth0 proto kernel scope link src 10.244.1.2 \n',
    );
    expect(fs.read('/var/lib/cni/networks/cbr0/10.244.1.2')).toBe(`${pod.containerId}\r\neth0`);
    n.deletePod('web');
    expect(fs.exists(`/var/lib/cni/flannel/${pod.containerId}`)).toBe(false);
    expect(fs.exists('/var/lib/cni/networks/cbr0/10.244.1.2')).toBe(false);
  });

  it('fails ADD with the reference’s message when flanneld has not written subnet.env', () => {
    const { n } = node(null);
    const e = cniError(() => n.addPod('web'));
    expect(e.code).toBe(999);
    expect(e.message).toBe(
      'plugin type="flannel" failed (add): failed to load flannel \'subnet.env\' file: open /run/flannel/subnet.env: no such file or directory. Check the flannel pod log for this node.',
    );
  });

  it('reports a missing delegate plugin as its own error', () => {
    const conf = KUBE_FLANNEL_CNI_CONF.replace('"hairpinMode": true', '"type": "nosuch"');
    const { n, fs } = node(ENV, conf);
    const e = cniError(() => n.addPod('web'));
    expect(e.code).toBe(999);
    expect(e.message).toBe(
      'plugin type="flannel" failed (add): failed to delegate add: failed to find plugin "nosuch" in path [/opt/cni/bin]',
    );
    // The rollback DEL found the saved file, failed to delegate and removed it anyway.
    expect(fs.list('/var/lib/cni/flannel')).toEqual([]);
  });

  it('DEL with nothing saved succeeds; CHECK does nothing', () => {
    const { n, fs } = node();
    const pod = n.addPod('web');
    fs.remove(`/var/lib/cni/flannel/${pod.containerId}`);
    expect(() => n.deletePod('web')).not.toThrow();
  });
});

describe('delegation', () => {
  it('the delegate’s skel refuses a configuration version it does not speak', () => {
    const { k, n } = node();
    const rt = { containerId: 'c1', netns: k.addNetns('p'), ifName: 'eth0', args: {}, capabilityArgs: {} };
    const e = cniError(() => delegateAdd('bridge', '{"cniVersion":"0.2.0","name":"x","type":"bridge"}', rt, n.env));
    expect([e.code, e.message]).toEqual([1, 'incompatible CNI versions']);
    expect(cniError(() => delegateAdd('bridge', '{"cniVersion":', rt, n.env)).code).toBe(6);
    expect(() => delegateAdd('nosuch', '{}', rt, n.env)).toThrow(
      'failed to find plugin "nosuch" in path [/opt/cni/bin]',
    );
  });
});
