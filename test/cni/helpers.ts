// Shared pieces of the CNI tests: shell lines applied to an existing kernel, the recorded real-plugin fixture, and
// a small interface plugin ("test-ptp") that wires a pod the way ptp does, for tests that must not wait for the
// bridge plugin: a veth pair (host side named from the container ID), an address from CNI_ARGS IP (or the config),
// the host route to the pod and the pod's default route.

import { readFileSync } from 'node:fs';
import { registerPlugin } from '../../src/cni/registry.js';
import { netnsPath } from '../../src/cni/runtime.js';
import { CniError, type Plugin, type Result } from '../../src/cni/types.js';
import { iptablesSave } from '../../src/iptables/index.js';
import type { Kernel } from '../../src/netns/kernel.js';
import type { NetNs } from '../../src/netns/netns.js';
import { applyCommand } from '../../src/scenario/apply.js';
import { parseCommands } from '../../src/scenario/commands/parse.js';
import { textSource } from '../../src/scenario/commands/tokenize.js';
import { formatMac } from '../../src/wire/addr.js';

export function sh(k: Kernel, lines: string): void {
  for (const cmd of parseCommands(textSource(lines, '<test>', 1, 1))) {
    applyCommand(k, cmd);
    k.run(k.now);
  }
}

export interface RealFixture {
  ids: [string, string];
  bridgeResult1: Record<string, unknown>;
  bridgeResult2: Record<string, unknown>;
  mappings1: Record<string, unknown>[];
  mappings2: Record<string, unknown>[];
  routeLocalnetCni0: string;
  checkAfterAdd: { code: number; stdout: string };
  checkAfterDel: { code: number; stdout: string };
  natAfterBridge: string;
  natAfterPortmap1: string;
  natAfterPortmap2: string;
  natAfterDel1: string;
}

export const REAL = JSON.parse(
  readFileSync(new URL('../fixtures/cni/real-plugins.json', import.meta.url), 'utf8'),
) as RealFixture;

/** The nat table without comment lines and without the bridge plugin's own CNI-<24 hex> masquerade chains. */
export function natWithoutBridge(text: string): string {
  return text
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#') && !/CNI-[0-9a-f]{24}\b/.test(l))
    .join('\n');
}

export function nat(ns: NetNs): string {
  return natWithoutBridge(iptablesSave(ns, { table: 'nat' }));
}

/** A ptp-like interface plugin for tests (type "test-ptp"); records the commands it got. */
export function testPtpPlugin(log: string[] = []): Plugin {
  return {
    type: 'test-ptp',
    add(conf, rt, env) {
      log.push(`ADD ${rt.containerId.slice(0, 8)} ${rt.ifName}`);
      const ip = rt.args.IP ?? (conf.address as string | undefined);
      if (!ip) throw new CniError(7, 'test-ptp needs an address (CNI_ARGS IP or "address")');
      const host = `veth${rt.containerId.slice(0, 8)}`;
      const k = env.kernel;
      sh(
        k,
        [
          `ip -n ${env.host.name} link add ${host} type veth peer name ${rt.ifName} netns ${rt.netns.name}`,
          `ip -n ${env.host.name} link set ${host} up`,
          `ip -n ${env.host.name} route add ${ip}/32 dev ${host}`,
          `ip -n ${rt.netns.name} addr add ${ip}/24 dev ${rt.ifName}`,
          `ip -n ${rt.netns.name} link set ${rt.ifName} up`,
          `ip -n ${rt.netns.name} route add 169.254.1.1 dev ${rt.ifName} scope link`,
          `ip -n ${rt.netns.name} route add default via 169.254.1.1 dev ${rt.ifName}`,
        ].join('\n'),
      );
      // Answer ARP for the pod's fake gateway from the host end, as ptp does with proxy ARP disabled by a /32 peer.
      const hostDev = env.host.dev(host);
      const podDev = rt.netns.dev(rt.ifName);
      sh(k, `ip -n ${rt.netns.name} neigh add 169.254.1.1 lladdr ${formatMac(hostDev.mac)} dev ${rt.ifName}`);
      const r: Result = {
        cniVersion: conf.cniVersion,
        interfaces: [
          { name: host, mac: formatMac(hostDev.mac) },
          { name: rt.ifName, mac: formatMac(podDev.mac), sandbox: netnsPath(rt.netns) },
        ],
        ips: [{ address: `${ip}/24`, gateway: '169.254.1.1', interface: 1 }],
        routes: [{ dst: '0.0.0.0/0' }],
      };
      return r;
    },
    del(_conf, rt, env) {
      log.push(`DEL ${rt.containerId.slice(0, 8)} ${rt.ifName}`);
      const host = env.host.devs.get(`veth${rt.containerId.slice(0, 8)}`);
      if (host) sh(env.kernel, `ip -n ${env.host.name} link del ${host.name}`);
    },
    check(_conf, rt, env) {
      log.push(`CHECK ${rt.containerId.slice(0, 8)} ${rt.ifName}`);
      if (!env.host.devs.has(`veth${rt.containerId.slice(0, 8)}`)) throw new CniError(999, 'host veth is missing');
    },
  };
}

export function registerTestPtp(log: string[] = []): Plugin {
  const p = testPtpPlugin(log);
  registerPlugin(p, { replace: true });
  return p;
}

/** SPEC.md 1.0.0 section 1 "Example configuration", without its jsonc comments. */
export const DBNET = `{
  "cniVersion": "1.0.0",
  "name": "dbnet",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "keyA": ["some more", "plugin specific", "configuration"],
      "ipam": {
        "type": "host-local",
        "subnet": "10.1.0.0/16",
        "gateway": "10.1.0.1",
        "routes": [
            {"dst": "0.0.0.0/0"}
        ]
      },
      "dns": {
        "nameservers": [ "10.1.0.1" ]
      }
    },
    {
      "type": "tuning",
      "capabilities": {
        "mac": true
      },
      "sysctl": {
        "net.core.somaxconn": "500"
      }
    },
    {
        "type": "portmap",
        "capabilities": {"portMappings": true}
    }
  ]
}`;
