// Namespace names of the netfilter case runner: `pw-nfc-<pid>x<random>-<name>`, the scenario's initial namespace
// being `pw-nfc-<id>-root`. The object has the shape kernel-lab's setup-line rewriter expects of its LabNames, so the
// rewriter confines every setup line to these namespaces. Namespaces of a run whose process is gone (or whose pid
// now belongs to a younger process) are stale and removed at the start of the next run.

import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { destroyNamespace, listNamespaces } from '../kernel-lab/cleanup.js';

export const NFC_PREFIX = 'pw-nfc-';
const SCENARIO_NS = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,40}$/;
const NFC_NS = /^pw-nfc-(\d+)x[0-9a-f]+-/;

export class NfcNames {
  readonly id: string;
  readonly root: string;

  constructor(id = `${process.pid}x${randomBytes(3).toString('hex')}`) {
    this.id = id;
    this.root = `${NFC_PREFIX}${id}-root`;
  }

  map(name: string): string {
    if (name === 'root') throw new Error("netfilter cases: the namespace name 'root' is reserved");
    if (!SCENARIO_NS.test(name)) throw new Error(`netfilter cases: namespace name '${name}' is not supported`);
    return `${NFC_PREFIX}${this.id}-${name}`;
  }

  of(name: string): string {
    return name === '' || name === 'root' ? this.root : this.map(name);
  }

  owns(nsName: string): boolean {
    return nsName.startsWith(`${NFC_PREFIX}${this.id}-`);
  }
}

function processStartMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const startTicks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    const btime = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
    if (!btime || !Number.isFinite(startTicks)) return null;
    return Number(btime[1]) * 1000 + startTicks * 10; // USER_HZ = 100
  } catch {
    return null;
  }
}

function isStale(nsName: string): boolean {
  const m = NFC_NS.exec(nsName);
  if (!m) return false;
  const pid = Number(m[1]);
  if (pid === process.pid) return false;
  const started = processStartMs(pid);
  if (started === null) return true;
  try {
    return started > statSync(`/run/netns/${nsName}`).mtimeMs;
  } catch {
    return true;
  }
}

/** Removes `pw-nfc-*` namespaces left behind by runs that died. */
export async function removeStaleNfcNamespaces(signal?: AbortSignal): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await listNamespaces(signal)) {
    if (isStale(name) && (await destroyNamespace(name)) === null) removed.push(name);
  }
  return removed;
}
