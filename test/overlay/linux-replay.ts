// Replays a flannel test cluster in real network namespaces: `pw-fl<pid>-ul` holds bridge br0, every node
// `pw-fl<pid>-<node>` has eth0 (192.168.50.1N/24) on it, as test/overlay/cluster.ts builds them; then each node's
// flanneld commands run in its namespace. Needs root with ip, bridge and iptables-restore; every command is
// bounded by a timeout and every namespace made here is deleted by `cleanup` (also after a failure).

import { execFileSync, spawnSync } from 'node:child_process';

const TIMEOUT = 10_000;

/** Why real namespaces cannot be used here, or null when they can. */
export function linuxUnavailable(): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'needs root';
  for (const tool of ['ip', 'bridge', 'iptables-restore', 'iptables-save']) {
    const r = spawnSync('sh', ['-c', `command -v ${tool}`], { timeout: TIMEOUT });
    if (r.status !== 0) return `${tool} is not installed`;
  }
  const probe = `pw-fl${process.pid}-probe`;
  const r = spawnSync('ip', ['netns', 'add', probe], { timeout: TIMEOUT });
  if (r.status !== 0) return `cannot create network namespaces: ${r.stderr.toString().trim()}`;
  spawnSync('ip', ['netns', 'del', probe], { timeout: TIMEOUT });
  return null;
}

export class LinuxCluster {
  readonly prefix = `pw-fl${process.pid}-`;
  private readonly made: string[] = [];

  ns(node: string): string {
    return this.prefix + node;
  }

  private ip(args: string[], input?: string): string {
    return execFileSync('ip', args, { timeout: TIMEOUT, encoding: 'utf8', ...(input !== undefined ? { input } : {}) });
  }

  /** `cmd` inside the namespace (words split on spaces; none of flannel's commands quotes anything). */
  exec(ns: string, cmd: string, input?: string): string {
    return this.ip(['netns', 'exec', ns, ...cmd.split(' ')], input);
  }

  setup(nodes: readonly string[]): void {
    const ul = this.ns('ul');
    this.ip(['netns', 'add', ul]);
    this.made.push(ul);
    this.exec(ul, 'ip link add br0 type bridge');
    this.exec(ul, 'ip link set br0 up');
    nodes.forEach((name, i) => {
      const ns = this.ns(name);
      this.ip(['netns', 'add', ns]);
      this.made.push(ns);
      const port = `v-${name}`;
      this.exec(ul, `ip link add ${port} type veth peer name eth0 netns ${ns}`);
      this.exec(ul, `ip link set ${port} master br0`);
      this.exec(ul, `ip link set ${port} up`);
      this.exec(ns, 'ip link set lo up');
      this.exec(ns, `ip addr add 192.168.50.${11 + i}/24 dev eth0`);
      this.exec(ns, 'ip link set eth0 up');
    });
  }

  /** Runs one recorded flanneld operation (`iptables-restore` gets its input on stdin). */
  run(node: string, op: { cmd: string; input?: string }): void {
    this.exec(this.ns(node), op.cmd, op.input);
  }

  cleanup(): void {
    for (const ns of this.made.reverse()) spawnSync('ip', ['netns', 'del', ns], { timeout: TIMEOUT });
    this.made.length = 0;
  }
}
