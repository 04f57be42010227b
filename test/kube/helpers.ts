// Test helpers: a cluster with nodes, and a stand-in for the networking side that starts every pod bound to a node
// (as the CNI ADD would) with an address from the node's pod range, and optionally stops terminating pods.

import type { Pod } from '../../src/kube/index.js';
import { KubeCluster, podKey } from '../../src/kube/index.js';
import { Rng } from '../../src/sim/rng.js';

export interface TestCluster {
  cluster: KubeCluster;
  /** Pod key → IP handed out. */
  ips: Map<string, string>;
}

export function makeCluster(
  opts: { seed?: number; nodes?: number; autoStart?: boolean; autoStop?: boolean; zones?: string[] } = {},
): TestCluster {
  const cluster = new KubeCluster({ rng: new Rng(opts.seed ?? 1) });
  const n = opts.nodes ?? 3;
  for (let i = 0; i < n; i++) {
    const zone = opts.zones?.[i];
    cluster.addNode({
      name: `node${i + 1}`,
      address: `192.168.0.${i + 11}`,
      podCIDR: `10.244.${i + 1}.0/24`,
      ...(zone !== undefined ? { labels: { 'topology.kubernetes.io/zone': zone } } : {}),
    });
  }
  const ips = new Map<string, string>();
  const next = new Map<string, number>();
  const start = (pod: Pod) => {
    const node = pod.spec.nodeName;
    if (!node || pod.status?.podIP || pod.metadata.deletionTimestamp) return;
    const idx = Number(node.replace('node', ''));
    const host = (next.get(node) ?? 1) + 1;
    next.set(node, host);
    const ip = `10.244.${idx}.${host}`;
    ips.set(podKey(pod), ip);
    cluster.podStarted(podKey(pod), ip);
  };
  if (opts.autoStart !== false) {
    cluster.watch('Pod', (ev) => {
      if (ev.type !== 'DELETED') start(ev.object);
    });
  }
  if (opts.autoStop) {
    cluster.watch('Pod', (ev) => {
      if (ev.type === 'MODIFIED' && ev.object.metadata.deletionTimestamp && !ev.oldObject?.metadata.deletionTimestamp) {
        cluster.podStopped(podKey(ev.object));
      }
    });
  }
  return { cluster, ips };
}

export const YAML = (s: TemplateStringsArray, ...v: unknown[]): string =>
  String.raw({ raw: s }, ...v).replace(/^\n/, '');
