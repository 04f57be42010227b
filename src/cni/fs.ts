// A node's files as the CNI layer sees them (`/var/lib/cni/networks/<net>/<ip>`, `/etc/cni/net.d/…`,
// `/etc/resolv.conf`), kept in memory so that a scenario can read what the plugins wrote, exactly as one would
// `ls` and `cat` them on a node. Paths are absolute and cleaned like Go's `filepath.Clean` (the plugins build them
// with `filepath.Join`). Directories exist implicitly above every file and explicitly through `mkdir` (MkdirAll).
// Listings are sorted, as `os.ReadDir` and `filepath.Walk` return them, so every walk is deterministic.
// Limits: no permissions, owners, times, links or file locks; `remove` deletes a file or an empty directory only.

import type { NodeFs } from './types.js';

/** Cleans an absolute path: collapses `//`, resolves `.` and `..` (never above `/`), drops a trailing slash. */
export function cleanPath(path: string): string {
  if (!path.startsWith('/')) throw new Error(`path must be absolute: ${JSON.stringify(path)}`);
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return `/${out.join('/')}`;
}

/** `filepath.Join` for absolute paths: joins with `/` and cleans. */
export function joinPath(first: string, ...rest: string[]): string {
  return cleanPath([first, ...rest].join('/'));
}

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

function baseOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export class MemFs implements NodeFs {
  private readonly files = new Map<string, string>();
  /** Directory → names of its direct children (files and directories). */
  private readonly dirs = new Map<string, Set<string>>([['/', new Set()]]);
  /** Directory → count of changes to its direct children; lets readers cache a directory's contents safely. */
  private readonly generations = new Map<string, number>();

  read(path: string): string | undefined {
    return this.files.get(cleanPath(path));
  }

  write(path: string, data: string): void {
    const p = cleanPath(path);
    if (this.dirs.has(p)) throw new Error(`write ${p}: is a directory`);
    this.mkdir(parentOf(p));
    if (!this.files.has(p)) this.dirs.get(parentOf(p))!.add(baseOf(p));
    this.files.set(p, data);
    this.bump(parentOf(p));
  }

  /** Removes a file or an empty directory; false when nothing is there. */
  remove(path: string): boolean {
    const p = cleanPath(path);
    if (this.files.delete(p)) {
      this.dirs.get(parentOf(p))!.delete(baseOf(p));
      this.bump(parentOf(p));
      return true;
    }
    const children = this.dirs.get(p);
    if (children === undefined || p === '/') return false;
    if (children.size > 0) throw new Error(`remove ${p}: directory not empty`);
    this.dirs.delete(p);
    this.generations.delete(p);
    this.dirs.get(parentOf(p))!.delete(baseOf(p));
    this.bump(parentOf(p));
    return true;
  }

  /** Names (not paths) of a directory's entries, sorted; empty for a missing directory or a file. */
  list(dir: string): string[] {
    const children = this.dirs.get(cleanPath(dir));
    return children === undefined ? [] : [...children].sort();
  }

  exists(path: string): boolean {
    const p = cleanPath(path);
    return this.files.has(p) || this.dirs.has(p);
  }

  isDir(path: string): boolean {
    return this.dirs.has(cleanPath(path));
  }

  /** `mkdir -p`: creates the directory and its parents; refuses to turn a file into a directory. */
  mkdir(path: string): void {
    const p = cleanPath(path);
    if (this.dirs.has(p)) return;
    if (this.files.has(p)) throw new Error(`mkdir ${p}: not a directory`);
    this.mkdir(parentOf(p));
    this.dirs.set(p, new Set());
    this.dirs.get(parentOf(p))!.add(baseOf(p));
    this.bump(parentOf(p));
  }

  /**
   * How many times the direct children of `dir` have changed (created, rewritten or removed). A reader that
   * indexes a directory keeps the generation it indexed and rebuilds when it differs, so edits made by anyone
   * else (a scenario seeding a stale reservation) are never missed.
   */
  generation(dir: string): number {
    return this.generations.get(cleanPath(dir)) ?? 0;
  }

  /** Every file at or under `prefix`, path → contents, in sorted path order. */
  dump(prefix = '/'): Record<string, string> {
    const root = cleanPath(prefix);
    const under = root === '/' ? '/' : `${root}/`;
    const out: Record<string, string> = {};
    for (const path of [...this.files.keys()].sort()) {
      if (path === root || path.startsWith(under)) out[path] = this.files.get(path)!;
    }
    return out;
  }

  private bump(dir: string): void {
    this.generations.set(dir, (this.generations.get(dir) ?? 0) + 1);
  }
}

/** A NodeFs that can tell when a directory changed (MemFs does); others are re-read on every use. */
export interface GenerationalFs extends NodeFs {
  generation(dir: string): number;
}

export function hasGenerations(fs: NodeFs): fs is GenerationalFs {
  return typeof (fs as Partial<GenerationalFs>).generation === 'function';
}

/** `os.MkdirAll` through a NodeFs: uses `mkdir` when the filesystem has one; files create their parents anyway. */
export function mkdirAll(fs: NodeFs, dir: string): void {
  const withMkdir = fs as NodeFs & { mkdir?: (p: string) => void };
  if (typeof withMkdir.mkdir === 'function') withMkdir.mkdir(dir);
}
