// Tearing lab namespaces down. A namespace is only really gone when no process holds it, so the processes
// still inside (servers, captures, clients the lab started there) are killed first, then the name is deleted;
// the devices in it (veth ends, bridges) go with it, and a veth's peer in another namespace goes with its pair.
// A run that crashed or was killed leaves `pw-lab-*` namespaces behind; `removeStaleNamespaces` finds those whose
// creating process is gone (or whose pid now belongs to a process younger than the namespace) and removes them,
// never touching a namespace of a run still in progress.

import { readFileSync, statSync } from 'node:fs';
import { run } from './exec.js';
import { parseLabNamespace, parseNetnsList } from './names.js';

const CMD_MS = 10_000;
/** USER_HZ, the unit of /proc/<pid>/stat start times; 100 on every architecture Linux builds for today. */
const USER_HZ = 100;

export async function listNamespaces(signal?: AbortSignal): Promise<string[]> {
  const r = await run('ip', ['netns', 'list'], { timeoutMs: CMD_MS, ...(signal ? { signal } : {}) });
  return r.code === 0 ? parseNetnsList(r.stdout) : [];
}

/** Kills every process inside `name` and deletes it. Errors are collected, not thrown: cleanup must go on. */
export async function destroyNamespace(name: string): Promise<string | null> {
  const pids = await run('ip', ['netns', 'pids', name], { timeoutMs: CMD_MS });
  for (const p of pids.stdout.split(/\s+/)) {
    const pid = Number(p);
    if (Number.isInteger(pid) && pid > 1 && pid !== process.pid) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  const del = await run('ip', ['netns', 'delete', name], { timeoutMs: CMD_MS });
  if (del.code === 0) return null;
  return `ip netns delete ${name}: ${(del.stderr || del.stdout).trim() || `exit ${del.code}`}`;
}

function processStartMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const startTicks = Number(fields[19]);
    const btime = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
    if (!btime || !Number.isFinite(startTicks)) return null;
    return Number(btime[1]) * 1000 + (startTicks * 1000) / USER_HZ;
  } catch {
    return null;
  }
}

/** True when the namespace was left by a run that no longer exists. */
export function isStale(nsName: string): boolean {
  const parsed = parseLabNamespace(nsName);
  if (!parsed) return false;
  if (parsed.pid === process.pid) return false;
  const started = processStartMs(parsed.pid);
  if (started === null) return true;
  let created: number;
  try {
    created = statSync(`/run/netns/${nsName}`).mtimeMs;
  } catch {
    return true;
  }
  return started > created;
}

/** Removes `pw-lab-*` namespaces left behind by runs that died; returns the names removed. */
export async function removeStaleNamespaces(signal?: AbortSignal): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await listNamespaces(signal)) {
    if (isStale(name) && (await destroyNamespace(name)) === null) removed.push(name);
  }
  return removed;
}
