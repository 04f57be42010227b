// The delegate configuration the flannel plugin builds, handed to the real bridge plugin (Debian's
// containernetworking-plugins in /usr/lib/cni) in real namespaces: it must be accepted and give the same
// addresses, routes and interfaces as podwire's flannel → bridge → host-local chain. Root only; host-local keeps
// its files in a temporary directory; every namespace made here is deleted afterwards.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemFs } from '../../src/cni/fs.js';
import { Node } from '../../src/cni/node.js';
import { KUBE_FLANNEL_CNI_CONF_NAME } from '../../src/cni/plugins/flannel.js';
import { encodeResult } from '../../src/cni/spec/result.js';
import { enableNetfilter } from '../../src/iptables/index.js';
import { Kernel } from '../../src/netns/kernel.js';
import { formatSubnetEnv } from '../../src/overlay/flannel/subnet-env.js';
import { parseCidr } from '../../src/wire/addr.js';
import { sh } from './helpers.js';

const BRIDGE = '/usr/lib/cni/bridge';
const TIMEOUT = 10_000;

function unavailable(): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'needs root';
  if (!existsSync(BRIDGE) || !existsSync('/usr/lib/cni/host-local'))
    return `${BRIDGE} and host-local are not installed`;
  return null;
}

const why = unavailable();
if (why) console.log(`flannel delegate against the real bridge plugin skipped: ${why}`);

const made: string[] = [];
let tmp: string | undefined;
afterEach(() => {
  for (const ns of made.splice(0).reverse()) spawnSync('ip', ['netns', 'del', ns], { timeout: TIMEOUT });
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  tmp = undefined;
});

describe.skipIf(why !== null)('flannel delegate config and the real bridge plugin', () => {
  it('gives the same result as the emulated chain', () => {
    tmp = mkdtempSync(join(tmpdir(), 'pw-flannel-'));
    const conflist = JSON.stringify({
      name: 'cbr0',
      cniVersion: '0.3.1',
      plugins: [{ type: 'flannel', delegate: { hairpinMode: true, isDefaultGateway: true }, ipam: { dataDir: tmp } }],
    });
    const k = new Kernel({ seed: 3 });
    k.tracer.tracing = false;
    enableNetfilter(k);
    sh(k, 'ip netns add n1\nip -n n1 link set lo up');
    const fs = new MemFs();
    fs.write(
      '/run/flannel/subnet.env',
      formatSubnetEnv({
        network: parseCidr('10.244.0.0/16')!,
        subnet: parseCidr('10.244.1.0/24')!,
        mtu: 1450,
        ipMasq: true,
      }),
    );
    const node = new Node(k, 'n1', { fs, loopbackNetwork: false });
    node.writeConfig(KUBE_FLANNEL_CNI_CONF_NAME, conflist);
    const pod = node.addPod('web');
    const delegate = fs.read(`/var/lib/cni/flannel/${pod.containerId}`)!;
    expect(JSON.parse(delegate).ipam.dataDir).toBe(tmp);

    const host = `pw-flcni${process.pid}-host`;
    const podNs = `pw-flcni${process.pid}-pod`;
    for (const ns of [host, podNs]) {
      execFileSync('ip', ['netns', 'add', ns], { timeout: TIMEOUT });
      made.push(ns);
    }
    execFileSync('ip', ['-n', host, 'link', 'set', 'lo', 'up'], { timeout: TIMEOUT });
    const out = execFileSync('ip', ['netns', 'exec', host, BRIDGE], {
      input: delegate,
      timeout: TIMEOUT,
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
        CNI_COMMAND: 'ADD',
        CNI_CONTAINERID: pod.containerId,
        CNI_NETNS: `/var/run/netns/${podNs}`,
        CNI_IFNAME: 'eth0',
        CNI_PATH: '/usr/lib/cni',
      },
    });
    const real = JSON.parse(out) as Record<string, unknown>;
    const ours = encodeResult(pod.result, '0.3.1') as Record<string, unknown>;
    const shape = (r: Record<string, unknown>) => ({
      cniVersion: r.cniVersion,
      ips: r.ips,
      routes: r.routes,
      dns: r.dns,
      interfaces: (r.interfaces as { name: string; sandbox?: string }[]).map((i) => ({
        name: i.name.startsWith('veth') ? 'veth' : i.name,
        sandbox: i.sandbox ? 'yes' : 'no',
      })),
    });
    expect(shape(ours)).toEqual(shape(real));
    const mtu = execFileSync('ip', ['-n', podNs, '-o', 'link', 'show', 'eth0'], { timeout: TIMEOUT, encoding: 'utf8' });
    expect(mtu).toContain('mtu 1450 ');
  });
});
