import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemFs } from '../../src/cni/fs.js';
import '../../src/cni/plugins/portmap.js';
import { registerPlugin, unregisterPlugin } from '../../src/cni/registry.js';
import {
  addNetworkList,
  checkNetworkList,
  delNetworkList,
  getNetworkListCachedResult,
  type Invocation,
  netnsPath,
  type RuntimeConf,
} from '../../src/cni/runtime.js';
import {
  CniConfError,
  parseConfList,
  printResult,
  resultProblems,
  validateErrorObject,
  validateResult,
} from '../../src/cni/spec/index.js';
import { cniTool, cnitoolContainerId } from '../../src/cni/tool.js';
import { CniError, type Plugin, type PluginEnv, type Result } from '../../src/cni/types.js';
import { enableNetfilter, iptablesSave } from '../../src/iptables/index.js';
import { Kernel } from '../../src/netns/kernel.js';
import { DBNET } from './helpers.js';

const PORTMAPS = [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }];
const CAPS = { portMappings: PORTMAPS, mac: '00:11:22:33:44:66', bandwidth: { ingressRate: 1000 } };
const ID = '0b1d3e0e6f0c5c4a9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928';

/** SPEC.md 1.0.0 appendix: what bridge returns, and the result after tuning changed eth0's MAC. */
const BRIDGE_RESULT = {
  cniVersion: '1.0.0',
  ips: [{ address: '10.1.0.5/16', gateway: '10.1.0.1', interface: 2 }],
  routes: [{ dst: '0.0.0.0/0' }],
  interfaces: [
    { name: 'cni0', mac: '00:11:22:33:44:55' },
    { name: 'veth3243', mac: '55:44:33:22:11:11' },
    { name: 'eth0', mac: '99:88:77:66:55:44', sandbox: '/var/run/netns/blue' },
  ],
  dns: { nameservers: ['10.1.0.1'] },
};
const FINAL_RESULT = structuredClone(BRIDGE_RESULT);
FINAL_RESULT.interfaces[2]!.mac = '00:11:22:33:44:66';

/** The request configurations of the appendix's add example, steps 2 and 3 (portmap's with the final result). */
const SPEC_TUNING_ADD = {
  cniVersion: '1.0.0',
  name: 'dbnet',
  type: 'tuning',
  sysctl: { 'net.core.somaxconn': '500' },
  runtimeConfig: { mac: '00:11:22:33:44:66' },
  prevResult: BRIDGE_RESULT,
};
const SPEC_PORTMAP = {
  cniVersion: '1.0.0',
  name: 'dbnet',
  type: 'portmap',
  runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] },
  prevResult: FINAL_RESULT,
};

interface World {
  k: Kernel;
  env: PluginEnv;
  rt: RuntimeConf;
  calls: string[];
  invocations: Invocation[];
}

let tuningFails = false;

/** bridge and tuning doubles that answer as the specification's appendix shows. */
function doubles(calls: string[]): Plugin[] {
  const bridge: Plugin = {
    type: 'bridge',
    add(conf, rt) {
      calls.push('ADD bridge');
      const r = structuredClone(BRIDGE_RESULT) as Result;
      r.interfaces![2]!.sandbox = netnsPath(rt.netns);
      r.cniVersion = conf.cniVersion;
      return r;
    },
    del: () => {
      calls.push('DEL bridge');
    },
    check: () => {
      calls.push('CHECK bridge');
    },
  };
  const tuning: Plugin = {
    type: 'tuning',
    add(conf) {
      calls.push('ADD tuning');
      if (tuningFails) throw new Error('failed to set sysctl net.core.somaxconn');
      const r = structuredClone(conf.prevResult!) as Result;
      const mac = conf.runtimeConfig?.mac;
      if (typeof mac === 'string') r.interfaces!.find((i) => i.sandbox)!.mac = mac;
      return r;
    },
    del: () => {
      calls.push('DEL tuning');
    },
    check: () => {
      calls.push('CHECK tuning');
    },
  };
  return [bridge, tuning];
}

function world(): World {
  const k = new Kernel({ seed: 11 });
  enableNetfilter(k);
  const host = k.addNetns('host');
  const blue = k.addNetns('blue');
  const calls: string[] = [];
  for (const p of doubles(calls)) registerPlugin(p, { replace: true });
  return {
    k,
    env: { kernel: k, host, fs: new MemFs() },
    rt: { containerId: ID, netns: blue, ifName: 'eth0', args: 'IgnoreUnknown=1;K8S_POD_NAME=db', capabilityArgs: CAPS },
    calls,
    invocations: [],
  };
}

function errorOf(f: () => unknown): CniError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CniError);
    return e as CniError;
  }
  throw new Error('expected an error');
}

let w: World;
beforeEach(() => {
  tuningFails = false;
  w = world();
});
afterEach(() => {
  unregisterPlugin('bridge');
  unregisterPlugin('tuning');
});

describe('ADD, CHECK and DEL of the specification example', () => {
  it('ADD derives each plugin configuration as the appendix shows and returns the last result', () => {
    const net = parseConfList(DBNET, '/etc/cni/net.d/10-dbnet.conflist');
    const result = addNetworkList(net, w.rt, w.env, { onInvoke: (i) => w.invocations.push(i) });
    expect(w.invocations.map((i) => i.type)).toEqual(['bridge', 'tuning', 'portmap']);
    const [bridge, tuning, portmap] = w.invocations.map((i) => i.stdin);
    // The bridge gets its configuration with name and version injected and nothing else.
    expect(bridge).toEqual({ ...(JSON.parse(DBNET).plugins[0] as object), cniVersion: '1.0.0', name: 'dbnet' });
    expect(tuning).toEqual(SPEC_TUNING_ADD);
    expect(portmap).toEqual(SPEC_PORTMAP);
    expect(w.invocations[2]!.stdout).toEqual(FINAL_RESULT);
    expect(result).toEqual(FINAL_RESULT);
    validateResult(w.invocations[2]!.stdout, '1.0.0');
  });

  it('caches the result as libcni does, in /var/lib/cni/results/<net>-<id>-<ifname>', () => {
    const net = parseConfList(DBNET);
    addNetworkList(net, w.rt, w.env);
    const path = `/var/lib/cni/results/dbnet-${ID}-eth0`;
    const text = w.env.fs.read(path)!;
    expect(text.startsWith(`{"kind":"cniCacheV1","containerId":"${ID}","config":"`)).toBe(true);
    const rec = JSON.parse(text);
    expect(Object.keys(rec)).toEqual([
      'kind',
      'containerId',
      'config',
      'ifName',
      'networkName',
      'netns',
      'cniArgs',
      'capabilityArgs',
      'result',
    ]);
    expect(Buffer.from(rec.config, 'base64').toString('utf8')).toBe(DBNET);
    expect(rec.netns).toBe('/var/run/netns/blue');
    expect(rec.cniArgs).toEqual([
      ['IgnoreUnknown', '1'],
      ['K8S_POD_NAME', 'db'],
    ]);
    expect(Object.keys(rec.capabilityArgs)).toEqual(['bandwidth', 'mac', 'portMappings']);
    expect(Object.keys(rec.result)).toEqual(['cniVersion', 'dns', 'interfaces', 'ips', 'routes']);
    expect(rec.result).toEqual(FINAL_RESULT);
    expect(getNetworkListCachedResult(net, w.rt, w.env)).toEqual(FINAL_RESULT);
  });

  it('CHECK gives every plugin the cached result; DEL runs in reverse with it and clears the cache', () => {
    const net = parseConfList(DBNET);
    addNetworkList(net, w.rt, w.env);
    const before = iptablesSave(w.env.host, { table: 'nat' });
    expect(before).toContain('CNI-HOSTPORT-DNAT');
    w.calls.length = 0;
    checkNetworkList(net, w.rt, w.env, { onInvoke: (i) => w.invocations.push(i) });
    expect(w.calls).toEqual(['CHECK bridge', 'CHECK tuning']);
    expect(w.invocations.map((i) => i.stdin.prevResult)).toEqual([FINAL_RESULT, FINAL_RESULT, FINAL_RESULT]);
    expect(w.invocations[2]!.stdin).toEqual(SPEC_PORTMAP);
    w.invocations.length = 0;
    w.calls.length = 0;
    delNetworkList(net, w.rt, w.env, { onInvoke: (i) => w.invocations.push(i) });
    expect(w.invocations.map((i) => i.type)).toEqual(['portmap', 'tuning', 'bridge']);
    for (const i of w.invocations) expect(i.stdin.prevResult).toEqual(FINAL_RESULT);
    expect(w.env.fs.exists(`/var/lib/cni/results/dbnet-${ID}-eth0`)).toBe(false);
    expect(iptablesSave(w.env.host, { table: 'nat' })).not.toMatch(/CNI-DN-/);
    // DEL again succeeds: there is no cached result any more and every plugin tolerates missing state.
    delNetworkList(net, w.rt, w.env);
  });

  it('hands prevResult over in the list version: ips carry "version" at 0.4.0, no prevResult on DEL before it', () => {
    const net040 = parseConfList(DBNET.replace('"1.0.0"', '"0.4.0"'));
    const result = addNetworkList(net040, w.rt, w.env, { onInvoke: (i) => w.invocations.push(i) });
    expect(result.cniVersion).toBe('0.4.0');
    const prev = w.invocations[1]!.stdin.prevResult as Record<string, unknown>;
    expect(resultProblems(prev, '0.4.0')).toEqual([]);
    expect((prev.ips as Record<string, unknown>[])[0]!.version).toBe('4');
    expect(prev.dns).toEqual({ nameservers: ['10.1.0.1'] });
    w.invocations.length = 0;
    delNetworkList(net040, w.rt, w.env, { onInvoke: (i) => w.invocations.push(i) });
    expect(w.invocations.every((i) => i.stdin.prevResult !== undefined)).toBe(true);

    const net031 = parseConfList(DBNET.replace('"1.0.0"', '"0.3.1"'));
    addNetworkList(net031, w.rt, w.env);
    w.invocations.length = 0;
    delNetworkList(net031, w.rt, w.env, { onInvoke: (i) => w.invocations.push(i) });
    expect(w.invocations.map((i) => i.stdin.prevResult)).toEqual([undefined, undefined, undefined]);
    const e = errorOf(() => checkNetworkList(net031, w.rt, w.env));
    expect([e.code, e.message]).toEqual([1, 'configuration version "0.3.1" does not support the CHECK command']);
  });

  it('CHECK does nothing when the list disables it', () => {
    const net = parseConfList(DBNET.replace('"name": "dbnet",', '"name": "dbnet", "disableCheck": true,'));
    addNetworkList(net, w.rt, w.env);
    w.calls.length = 0;
    checkNetworkList(net, w.rt, w.env);
    expect(w.calls).toEqual([]);
  });

  it('passes only the capabilities a plugin declares, and removes the capabilities key', () => {
    const net = parseConfList(DBNET);
    addNetworkList(net, w.rt, w.env, { onInvoke: (i) => w.invocations.push(i) });
    expect(w.invocations.map((i) => i.stdin.runtimeConfig)).toEqual([
      undefined,
      { mac: CAPS.mac },
      { portMappings: PORTMAPS },
    ]);
    expect(w.invocations.some((i) => 'capabilities' in i.stdin)).toBe(false);
    const seen: Record<string, string>[] = [];
    registerPlugin(
      {
        ...doubles([])[0]!,
        add: (c, rt, env) => {
          seen.push(rt.args);
          return doubles([])[0]!.add(c, rt, env);
        },
      },
      { replace: true },
    );
    addNetworkList(net, { ...w.rt, containerId: 'other' }, w.env);
    expect(seen).toEqual([{ IgnoreUnknown: '1', K8S_POD_NAME: 'db' }]);
  });
});

describe('failures', () => {
  it('an unknown plugin type fails like a missing binary, pointing at the type field, and rolls back', () => {
    unregisterPlugin('tuning');
    const net = parseConfList(DBNET, '10-dbnet.conflist');
    const e = errorOf(() => addNetworkList(net, w.rt, w.env));
    expect(e).toBeInstanceOf(CniConfError);
    const ce = e as CniConfError;
    expect(ce.code).toBe(7);
    expect(ce.message).toBe('plugin type="tuning" failed (add): failed to find plugin "tuning" in path [/opt/cni/bin]');
    expect([ce.field, ce.line, ce.col]).toEqual(['plugins[1].type', 22, 15]);
    // The clean-up went over the whole list, skipping the missing plugin.
    expect(w.calls).toEqual(['ADD bridge', 'DEL bridge']);
    expect(ce.details).toContain(
      'clean-up by DEL failed too: plugin type="tuning" failed (delete): failed to find plugin',
    );
    expect(w.env.fs.list('/var/lib/cni/results')).toEqual([]);
  });

  it('a plugin failing in the middle leaves no half-made state: DEL runs for the whole list in reverse', () => {
    // Put portmap first so that real iptables state exists when tuning fails.
    const reordered = parseConfList(
      JSON.stringify({
        ...JSON.parse(DBNET),
        plugins: [JSON.parse(DBNET).plugins[0], JSON.parse(DBNET).plugins[2], JSON.parse(DBNET).plugins[1]],
      }),
    );
    const nat0 = iptablesSave(w.env.host, { table: 'nat' });
    tuningFails = true;
    const e = errorOf(() => addNetworkList(reordered, w.rt, w.env, { onInvoke: (i) => w.invocations.push(i) }));
    expect([e.code, e.message]).toEqual([
      999,
      'plugin type="tuning" failed (add): failed to set sysctl net.core.somaxconn',
    ]);
    expect(w.invocations.map((i) => `${i.command} ${i.type}`)).toEqual([
      'ADD bridge',
      'ADD portmap',
      'ADD tuning',
      'DEL tuning',
      'DEL portmap',
      'DEL bridge',
    ]);
    // portmap's per-pod chain is gone again; its shared chains stay, as the real plugin leaves them.
    expect(iptablesSave(w.env.host, { table: 'nat' })).not.toMatch(/CNI-DN-/);
    expect(nat0).not.toMatch(/CNI-DN-/);
    expect(w.env.fs.list('/var/lib/cni/results')).toEqual([]);
    // libcni's bare behaviour (cnitool) does not clean up.
    w.invocations.length = 0;
    errorOf(() => addNetworkList(reordered, w.rt, w.env, { rollback: false, onInvoke: (i) => w.invocations.push(i) }));
    expect(w.invocations.map((i) => i.command)).toEqual(['ADD', 'ADD', 'ADD']);
    expect(iptablesSave(w.env.host, { table: 'nat' })).toMatch(/CNI-DN-/);
  });

  it('checks the attachment parameters as libcni does', () => {
    const net = parseConfList(DBNET);
    const cases: [Partial<RuntimeConf>, number, string][] = [
      [{ containerId: '' }, 3, 'missing containerID'],
      [{ containerId: 'no spaces' }, 4, 'invalid characters in containerID'],
      [{ ifName: 'a-very-long-ifname' }, 4, 'interface name is too long'],
      [{ ifName: 'eth/0' }, 4, 'interface name contains / or : or whitespace characters'],
      [{ netns: w.env.host }, 8, "plugin's netns and netns from CNI_NETNS should not be the same"],
      [{ args: 'K8S_POD_NAME' }, 4, 'ARGS: invalid pair "K8S_POD_NAME"'],
    ];
    for (const [patch, code, msg] of cases) {
      const e = errorOf(() => addNetworkList(net, { ...w.rt, ...patch }, w.env, { rollback: false }));
      expect([e.code, e.message]).toEqual([code, `plugin type="bridge" failed (add): ${msg}`]);
    }
  });

  it('a plugin printing a result that is not of its version is a decoding failure', () => {
    registerPlugin(
      {
        ...doubles([])[0]!,
        add: (conf) => ({ cniVersion: conf.cniVersion, ips: [{ address: '10.1.0.5/16', interface: 4 }] }),
      },
      { replace: true },
    );
    const e = errorOf(() => addNetworkList(parseConfList(DBNET), w.rt, w.env));
    expect(e.code).toBe(6);
    expect(e.message).toBe(
      'plugin type="bridge" failed (add): plugin "bridge" printed an invalid result: invalid 1.0.0 result',
    );
    expect(e.details).toContain('ips[0].interface: is 4 but the result has no interfaces');
  });
});

describe('cniTool', () => {
  it('prints the final result in the configuration version, as cnitool would', () => {
    const out = cniTool('add', DBNET, { netns: w.rt.netns, capabilityArgs: JSON.stringify(CAPS) }, w.env);
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual(FINAL_RESULT);
    expect(out.stdout).toBe(printResult(FINAL_RESULT, '1.0.0'));
    const id = cnitoolContainerId('/var/run/netns/blue');
    expect(id).toMatch(/^cnitool-[0-9a-f]{20}$/);
    expect(w.env.fs.exists(`/var/lib/cni/results/dbnet-${id}-eth0`)).toBe(true);
    expect(cniTool('check', DBNET, { netns: w.rt.netns, capabilityArgs: CAPS }, w.env)).toEqual({
      stdout: '',
      code: 0,
    });
    expect(cniTool('del', DBNET, { netns: w.rt.netns, capabilityArgs: CAPS }, w.env)).toEqual({ stdout: '', code: 0 });
    const old = cniTool(
      'ADD',
      DBNET.replace('"1.0.0"', '"0.3.1"'),
      { netns: w.rt.netns, ifName: 'net1', args: 'IgnoreUnknown=1' },
      w.env,
    );
    expect(old.code).toBe(0);
    validateResult(JSON.parse(old.stdout), '0.3.1');
    expect(old.stdout).toContain('"version": "4"');
  });

  it.each([
    [
      DBNET.replace('"plugins": [', '"plugins": ['.concat('\n')).replace('"cni0",', '"cni0"'),
      6,
      /^error parsing configuration list: invalid character/,
      /^<config>:\d+:\d+$/,
    ],
    [
      DBNET.replace('"tuning"', '"vlan"'),
      7,
      /failed to find plugin "vlan" in path \[\/opt\/cni\/bin\]/,
      /field "plugins\[1\]\.type"/,
    ],
    [DBNET.replace('"1.0.0"', '"0.1.0"'), 1, /^incompatible CNI versions$/, /config is "0\.1\.0"/],
  ])('prints the error object and exits 1 (%#)', (text, code, msg, details) => {
    const out = cniTool('add', text, { netns: w.rt.netns }, w.env);
    expect(out.code).toBe(1);
    const obj = JSON.parse(out.stdout);
    validateErrorObject(obj, obj.cniVersion);
    expect(obj.code).toBe(code);
    expect(obj.msg).toMatch(msg);
    expect(obj.details).toMatch(details);
  });
});
