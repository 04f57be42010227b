// host-local's disk store (containernetworking/plugins host-local backend/disk): one directory per network,
// `<dataDir>/<network>/`, holding an empty `lock` file, one file per reserved address named by the address and
// containing `<containerID>\r\n<ifname>` (container ID trimmed), and `last_reserved_ip.<N>` holding the address
// last reserved from range set N. Lookups by owner compare each file's trimmed contents with
// `<id>\r\n<ifname>` and, when nothing matches, with the bare `<id>` (files written by old versions).
// The reference walks the directory on every lookup; here a per-directory index of contents answers instead, kept
// exact by rebuilding whenever the directory's generation moved without us (someone else wrote or removed a file).
// Limits: no file locking (the emulator is single-threaded); subdirectories of the network directory are ignored.

import { formatIpv4, type Ipv4, parseIpv4 } from '../../../wire/addr.js';
import { hasGenerations, joinPath, mkdirAll } from '../../fs.js';
import type { NodeFs } from '../../types.js';

export const DEFAULT_DATA_DIR = '/var/lib/cni/networks';
export const LAST_IP_FILE_PREFIX = 'last_reserved_ip.';
export const LINE_BREAK = '\r\n';

/** Trimmed file contents → names of the files holding them. */
interface DirIndex {
  generation: number;
  byKey: Map<string, Set<string>>;
  keyOf: Map<string, string>;
}

const indexes = new WeakMap<NodeFs, Map<string, DirIndex>>();

/** Go's strings.TrimSpace for the ASCII whitespace IDs can carry. */
function trimSpace(s: string): string {
  return s.trim();
}

export class DiskStore {
  readonly dir: string;

  constructor(
    private readonly fs: NodeFs,
    network: string,
    dataDir = '',
  ) {
    this.dir = joinPath(dataDir === '' ? DEFAULT_DATA_DIR : dataDir, network);
    mkdirAll(fs, this.dir);
    const lock = joinPath(this.dir, 'lock');
    if (!fs.exists(lock)) fs.write(lock, '');
  }

  /** Creates the address's file unless it exists (O_EXCL); on success records it as last reserved for `rangeId`. */
  reserve(id: string, ifname: string, ip: Ipv4, rangeId: number): boolean {
    const name = formatIpv4(ip);
    const path = joinPath(this.dir, name);
    if (this.fs.exists(path)) return false;
    // Only an index that is exact now may follow our writes; a stale one is rebuilt by the next lookup.
    const idx = this.cachedIndex();
    const content = trimSpace(id) + LINE_BREAK + ifname;
    this.fs.write(path, content);
    if (idx !== undefined) this.noteWrite(idx, name, content);
    const lastName = LAST_IP_FILE_PREFIX + rangeId;
    this.fs.write(joinPath(this.dir, lastName), name);
    if (idx !== undefined) this.noteWrite(idx, lastName, name);
    return true;
  }

  /** The last address reserved from range set `rangeId`; null when none or unreadable. */
  lastReservedIp(rangeId: number): Ipv4 | null {
    const text = this.fs.read(joinPath(this.dir, LAST_IP_FILE_PREFIX + rangeId));
    return text === undefined ? null : parseIpv4(text);
  }

  /** Addresses whose files name this container and interface (or only this container), in directory order. */
  getById(id: string, ifname: string): Ipv4[] {
    const idx = this.index();
    const names = new Set<string>([
      ...(idx.byKey.get(trimSpace(id) + LINE_BREAK + ifname) ?? []),
      ...(idx.byKey.get(trimSpace(id)) ?? []),
    ]);
    const out: Ipv4[] = [];
    for (const name of [...names].sort()) {
      const ip = parseIpv4(name);
      if (ip !== null) out.push(ip);
    }
    return out;
  }

  findById(id: string, ifname: string): boolean {
    const idx = this.index();
    return (
      (idx.byKey.get(trimSpace(id) + LINE_BREAK + ifname)?.size ?? 0) > 0 ||
      (idx.byKey.get(trimSpace(id))?.size ?? 0) > 0
    );
  }

  /** Removes every file of this container and interface; falls back to files naming only the container. */
  releaseById(id: string, ifname: string): void {
    if (!this.releaseByKey(trimSpace(id) + LINE_BREAK + ifname)) this.releaseByKey(trimSpace(id));
  }

  private releaseByKey(key: string): boolean {
    const idx = this.index();
    const names = idx.byKey.get(key);
    if (names === undefined || names.size === 0) return false;
    for (const name of [...names].sort()) {
      this.fs.remove(joinPath(this.dir, name));
      this.noteRemove(idx, name);
    }
    return true;
  }

  /** The cached index of this directory if it is exact now (the filesystem tracks generations). */
  private cachedIndex(): DirIndex | undefined {
    const cached = indexes.get(this.fs)?.get(this.dir);
    if (cached !== undefined && hasGenerations(this.fs) && cached.generation === this.fs.generation(this.dir)) {
      return cached;
    }
    return undefined;
  }

  private index(): DirIndex {
    const cached = this.cachedIndex();
    if (cached !== undefined) return cached;
    let perFs = indexes.get(this.fs);
    const idx: DirIndex = { generation: -1, byKey: new Map(), keyOf: new Map() };
    for (const name of this.fs.list(this.dir)) {
      const content = this.fs.read(joinPath(this.dir, name));
      if (content !== undefined) addKey(idx, name, trimSpace(content));
    }
    if (hasGenerations(this.fs)) {
      idx.generation = this.fs.generation(this.dir);
      if (perFs === undefined) {
        perFs = new Map();
        indexes.set(this.fs, perFs);
      }
      perFs.set(this.dir, idx);
    }
    return idx;
  }

  private noteWrite(idx: DirIndex, name: string, content: string): void {
    removeKey(idx, name);
    addKey(idx, name, trimSpace(content));
    this.resync(idx);
  }

  private noteRemove(idx: DirIndex, name: string): void {
    removeKey(idx, name);
    this.resync(idx);
  }

  /** Our own change keeps the index exact, so it adopts the directory's new generation. */
  private resync(idx: DirIndex): void {
    if (hasGenerations(this.fs)) idx.generation = this.fs.generation(this.dir);
  }
}

function addKey(idx: DirIndex, name: string, key: string): void {
  idx.keyOf.set(name, key);
  let names = idx.byKey.get(key);
  if (names === undefined) {
    names = new Set();
    idx.byKey.set(key, names);
  }
  names.add(name);
}

function removeKey(idx: DirIndex, name: string): void {
  const key = idx.keyOf.get(name);
  if (key === undefined) return;
  idx.keyOf.delete(name);
  const names = idx.byKey.get(key);
  names?.delete(name);
  if (names?.size === 0) idx.byKey.delete(key);
}
