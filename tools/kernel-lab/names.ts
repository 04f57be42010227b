// Names of the lab's namespaces. Every namespace a run creates is `pw-lab-<id>-<name>`, where <id> is
// `<pid>x<random>`: the pid of the process that ran the lab lets a later run tell a namespace left behind by a
// crash (its creator is gone, or the pid now belongs to a younger process) from one a concurrent run still uses.
// The scenario's initial namespace becomes `pw-lab-<id>-root`, so `root` cannot also name a scenario namespace.

import { randomBytes } from 'node:crypto';

export const LAB_PREFIX = 'pw-lab-';
export const ROOT_NAME = 'root';

const SCENARIO_NS = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const LAB_NS = /^pw-lab-(\d+)x([0-9a-f]+)-(.+)$/;

export function newLabId(): string {
  return `${process.pid}x${randomBytes(3).toString('hex')}`;
}

/** True for the names a step or listener uses for the scenario's initial namespace. */
export function isInitialNs(name: string): boolean {
  return name === '' || name === ROOT_NAME;
}

export class LabNames {
  readonly root: string;
  constructor(readonly id: string) {
    this.root = `${LAB_PREFIX}${id}-${ROOT_NAME}`;
  }

  /** Lab name of a namespace the scenario creates or names in a command. */
  map(name: string): string {
    if (name === ROOT_NAME) {
      throw new Error(`kernel-lab: namespace name '${ROOT_NAME}' is reserved for the scenario's initial namespace`);
    }
    if (!SCENARIO_NS.test(name)) {
      throw new Error(`kernel-lab: namespace name '${name}' is not supported (letters, digits, '_', '.', '-')`);
    }
    return `${LAB_PREFIX}${this.id}-${name}`;
  }

  /** Lab namespace a step or listener runs in. */
  of(name: string): string {
    return isInitialNs(name) ? this.root : this.map(name);
  }

  owns(nsName: string): boolean {
    return nsName.startsWith(`${LAB_PREFIX}${this.id}-`);
  }
}

export function parseLabNamespace(nsName: string): { pid: number; id: string; name: string } | null {
  const m = LAB_NS.exec(nsName);
  if (!m) return null;
  return { pid: Number(m[1]), id: `${m[1]}x${m[2]}`, name: m[3]! };
}

/** Names from `ip netns list` output (`name` or `name (id: N)` per line). */
export function parseNetnsList(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n.length > 0);
}
