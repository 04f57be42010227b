// An in-memory API server: objects by kind and key, a resourceVersion counter, and the registry pipeline each write
// goes through — generateName, defaults, the Service allocator, validation (create or update), namespace
// existence — with upstream's errors. Watchers get ADDED / MODIFIED / DELETED events, synchronously and in
// resourceVersion order: events raised while a handler runs (a controller reacting) are queued and delivered after
// the current event has reached every watcher, so all watchers see one history. Writes that change nothing make no
// event (as an update with no change makes no new resourceVersion upstream). Controllers may defer work until the
// queue is empty (`whenIdle`), as their work queues collapse bursts of events. Stored objects are frozen; callers
// clone before changing them.
// `create`/`update`/`apply` are the validated API; `writeStatus` replaces an object without validation, the way
// the status and binding subresources (kubelet, scheduler, controllers' status) bypass spec validation.
// Limits: no optimistic concurrency (resourceVersion preconditions), no finalizers, no field managers.

import type { Nanos } from '../sim/events.js';
import type { Rng } from '../sim/rng.js';
import type { AllocTxn, ServiceAllocator } from './alloc/service.js';
import { mergeLive, prepareServiceUpdate } from './apply-merge.js';
import { applyDefaults, needsHealthCheck } from './defaults.js';
import { alreadyExists, invalidError, notFound } from './errors.js';
import { KINDS, objectKey } from './kinds.js';
import type { Kind, KindMap, KubeObject } from './types.js';
import { clone, deepEqual, deepFreeze, generateName, rfc3339 } from './util.js';
import { validateCreate, validateUpdate } from './validate/index.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/**
 * A watcher threw while an event was delivered. The other watchers still got the event; the error surfaces from
 * the write that raised it, wrapped so it is not mistaken for that write's own failure.
 */
export class WatchHandlerError extends Error {
  override readonly name = 'WatchHandlerError';

  constructor(override readonly cause: unknown) {
    super(`a watch handler failed: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

export interface WatchEvent<T extends KubeObject = KubeObject> {
  type: WatchEventType;
  /** The object after the change (for DELETED, its last state). */
  object: T;
  /** The object before the change, for MODIFIED. */
  oldObject?: T;
}

export type WatchHandler<T extends KubeObject = KubeObject> = (ev: WatchEvent<T>) => void;

export type ApplyAction = 'created' | 'configured' | 'unchanged';

export interface ApplyResult<T extends KubeObject = KubeObject> {
  object: T;
  action: ApplyAction;
}

export interface ApiStoreOptions {
  rng: Rng;
  /** Virtual time for creation and deletion timestamps (default: always 0). */
  clock?: () => Nanos;
  /** Allocates cluster IPs and node ports for Services; without it Services are stored as given. */
  services?: ServiceAllocator;
}

/** Kinds whose spec changes bump metadata.generation. */
const GENERATION_KINDS: ReadonlySet<Kind> = new Set(['Deployment', 'ReplicaSet']);

export class ApiStore {
  private readonly objects = new Map<Kind, Map<string, KubeObject>>();
  private readonly watchers = new Map<Kind | '*', Set<WatchHandler>>();
  private readonly queue: WatchEvent[] = [];
  private readonly idle: (() => void)[] = [];
  private dispatching = false;
  private rv = 0;
  private uids = 0;
  private readonly created = new Map<string, number>();
  private readonly rng: Rng;
  private readonly clock: () => Nanos;
  readonly services: ServiceAllocator | undefined;

  constructor(opts: ApiStoreOptions) {
    this.rng = opts.rng;
    this.clock = opts.clock ?? (() => 0);
    this.services = opts.services;
  }

  /** The resourceVersion of the last write. */
  get resourceVersion(): number {
    return this.rv;
  }

  now(): string {
    return rfc3339(this.clock());
  }

  private bucket(kind: Kind): Map<string, KubeObject> {
    let b = this.objects.get(kind);
    if (b === undefined) {
      b = new Map();
      this.objects.set(kind, b);
    }
    return b;
  }

  get<K extends Kind>(kind: K, namespace: string | undefined, name: string): KindMap[K] | undefined {
    return this.bucket(kind).get(objectKey(kind, namespace, name)) as KindMap[K] | undefined;
  }

  /** Objects of `kind` (in `namespace` when given), in creation order. */
  list<K extends Kind>(kind: K, namespace?: string, filter?: (o: KindMap[K]) => boolean): KindMap[K][] {
    const out: KindMap[K][] = [];
    for (const o of this.bucket(kind).values()) {
      const obj = o as KindMap[K];
      if (namespace !== undefined && obj.metadata.namespace !== namespace) continue;
      if (filter === undefined || filter(obj)) out.push(obj);
    }
    return out;
  }

  /** The resourceVersion an object was created at: a total creation order (0 for objects not stored). */
  creationOrder(obj: KubeObject): number {
    return this.created.get(`${obj.kind}/${objectKey(obj.kind, obj.metadata.namespace, obj.metadata.name)}`) ?? 0;
  }

  /** Subscribes to one kind ('*' for all); returns the unsubscribe function. */
  watch<K extends Kind>(kind: K | '*', handler: WatchHandler<KindMap[K]>): () => void {
    let set = this.watchers.get(kind);
    if (set === undefined) {
      set = new Set();
      this.watchers.set(kind, set);
    }
    const h = handler as WatchHandler;
    set.add(h);
    return () => set.delete(h);
  }

  /**
   * Runs `fn` with event delivery held back, then delivers what it raised. Code outside watch handlers that makes
   * several writes (a controller sync called directly) uses it so no handler runs in the middle of them.
   */
  batch<T>(fn: () => T): T {
    if (this.dispatching) return fn();
    this.dispatching = true;
    try {
      return fn();
    } finally {
      this.dispatching = false;
      this.drain();
    }
  }

  private emit(ev: WatchEvent): void {
    this.queue.push(ev);
    if (!this.dispatching) this.drain();
  }

  /**
   * Runs `fn` once every event queued so far, and every event those cause, has been delivered: a controller's
   * work queue, which collapses many events about one object into one sync. Outside event delivery it runs now.
   */
  whenIdle(fn: () => void): void {
    if (!this.dispatching) {
      this.batch(fn);
      return;
    }
    this.idle.push(fn);
  }

  private drain(): void {
    if (this.queue.length === 0 && this.idle.length === 0) return;
    this.dispatching = true;
    let failure: unknown;
    const run = (f: () => void): void => {
      try {
        f();
      } catch (err) {
        failure ??= err instanceof WatchHandlerError ? err : new WatchHandlerError(err);
      }
    };
    try {
      for (;;) {
        const e = this.queue.shift();
        if (e !== undefined) {
          const hs = [...(this.watchers.get(e.object.kind) ?? []), ...(this.watchers.get('*') ?? [])];
          for (const h of hs) run(() => h(e));
          continue;
        }
        const f = this.idle.shift();
        if (f === undefined) break;
        run(f);
      }
    } finally {
      this.dispatching = false;
    }
    if (failure !== undefined) throw failure;
  }

  private nextUid(): string {
    this.uids++;
    const hex = this.uids.toString(16).padStart(12, '0');
    return `00000000-0000-4000-8000-${hex}`;
  }

  private checkNamespace(obj: KubeObject): void {
    if (!KINDS[obj.kind].namespaced) return;
    const ns = obj.metadata.namespace ?? '';
    if (ns !== '' && this.get('Namespace', undefined, ns) === undefined) {
      throw notFound('Namespace', ns, ['metadata', 'namespace']);
    }
  }

  private commit(obj: KubeObject, type: WatchEventType, old?: KubeObject): KubeObject {
    this.rv++;
    obj.metadata.resourceVersion = String(this.rv);
    const frozen = deepFreeze(obj);
    const key = objectKey(obj.kind, obj.metadata.namespace, obj.metadata.name);
    if (type === 'DELETED') {
      this.bucket(obj.kind).delete(key);
      this.created.delete(`${obj.kind}/${key}`);
    } else {
      this.bucket(obj.kind).set(key, frozen);
      if (type === 'ADDED') this.created.set(`${obj.kind}/${key}`, this.rv);
    }
    this.emit(type === 'MODIFIED' ? { type, object: frozen, oldObject: old } : { type, object: frozen });
    return frozen;
  }

  /** Defaults and validates `obj` as apply would, without storing or allocating anything. */
  check(input: KubeObject): void {
    const obj = clone(input);
    // What allocation would fill in, so validation does not miss it.
    const allocated = (o: KubeObject): void => {
      if (o.kind === 'Service' && needsHealthCheck(o) && !o.spec.healthCheckNodePort)
        o.spec.healthCheckNodePort = 30000;
    };
    const live = this.get(obj.kind, obj.metadata.namespace, obj.metadata.name ?? '');
    if (live !== undefined) {
      mergeLive(obj, live);
      applyDefaults(obj);
      if (obj.kind === 'Service' && live.kind === 'Service') prepareServiceUpdate(obj, live);
      allocated(obj);
      const errs = validateUpdate(obj, live);
      if (errs.length > 0) throw invalidError(obj.kind, obj.metadata.name, errs);
      return;
    }
    if (!obj.metadata.name && obj.metadata.generateName) obj.metadata.name = `${obj.metadata.generateName}xxxxx`;
    applyDefaults(obj);
    allocated(obj);
    const errs = validateCreate(obj);
    if (errs.length > 0) throw invalidError(obj.kind, obj.metadata.name ?? '', errs);
  }

  /** POST: names it (generateName), defaults, allocates, validates and stores a new object. */
  create<T extends KubeObject>(input: T): T {
    const obj = clone(input);
    const m = obj.metadata;
    if (!m.name && m.generateName) m.name = generateName(m.generateName, this.rng);
    if (KINDS[obj.kind].namespaced) m.namespace ||= 'default';
    else delete m.namespace;
    if (m.name && this.get(obj.kind, m.namespace, m.name) !== undefined) throw alreadyExists(obj.kind, m.name);
    applyDefaults(obj);
    let txn: AllocTxn | undefined;
    if (obj.kind === 'Service' && this.services !== undefined) txn = this.services.allocateCreate(obj);
    try {
      const errs = validateCreate(obj);
      if (errs.length > 0) throw invalidError(obj.kind, m.name ?? '', errs);
      this.checkNamespace(obj);
    } catch (e) {
      txn?.revert();
      throw e;
    }
    txn?.commit();
    m.uid = this.nextUid();
    m.creationTimestamp = this.now();
    if (GENERATION_KINDS.has(obj.kind)) m.generation = 1;
    return this.commit(obj, 'ADDED') as T;
  }

  /** PUT: replaces an existing object's user fields (server fields are kept), validated as an update. */
  update<T extends KubeObject>(input: T): ApplyResult<T> {
    const obj = clone(input);
    const live = this.get(obj.kind, obj.metadata.namespace, obj.metadata.name);
    if (live === undefined) throw notFound(obj.kind, obj.metadata.name, ['metadata', 'name']);
    return this.updateFrom(obj, live) as ApplyResult<T>;
  }

  private updateFrom(obj: KubeObject, live: KubeObject): ApplyResult {
    mergeLive(obj, live);
    applyDefaults(obj);
    let txn: AllocTxn | undefined;
    if (obj.kind === 'Service' && live.kind === 'Service') {
      prepareServiceUpdate(obj, live);
      if (this.services !== undefined) txn = this.services.allocateUpdate(obj, live);
    }
    try {
      const errs = validateUpdate(obj, live);
      if (errs.length > 0) throw invalidError(obj.kind, obj.metadata.name, errs);
    } catch (e) {
      txn?.revert();
      throw e;
    }
    txn?.commit();
    if (deepEqual(obj, live)) return { object: live, action: 'unchanged' };
    if (
      GENERATION_KINDS.has(obj.kind) &&
      !deepEqual((obj as { spec?: unknown }).spec, (live as { spec?: unknown }).spec)
    ) {
      obj.metadata.generation = (live.metadata.generation ?? 0) + 1;
    }
    return { object: this.commit(obj, 'MODIFIED', live), action: 'configured' };
  }

  /** `kubectl apply` of one object: create it, or merge it onto the live one. */
  apply<T extends KubeObject>(input: T): ApplyResult<T> {
    const obj = clone(input);
    const m = obj.metadata;
    if (KINDS[obj.kind].namespaced) m.namespace ||= 'default';
    const live = m.name ? this.get(obj.kind, m.namespace, m.name) : undefined;
    if (live === undefined) return { object: this.create(obj), action: 'created' };
    return this.updateFrom(obj, live) as ApplyResult<T>;
  }

  /** Replaces an existing object as given (status, binding, deletion marks), without validation. */
  writeStatus<T extends KubeObject>(input: T): T {
    const obj = clone(input);
    const live = this.get(obj.kind, obj.metadata.namespace, obj.metadata.name);
    if (live === undefined) throw notFound(obj.kind, obj.metadata.name);
    obj.metadata.uid = live.metadata.uid;
    obj.metadata.creationTimestamp = live.metadata.creationTimestamp;
    obj.metadata.resourceVersion = live.metadata.resourceVersion;
    if (deepEqual(obj, live)) return live as T;
    return this.commit(obj, 'MODIFIED', live) as T;
  }

  /** DELETE: removes the object at once and releases what it held (cluster IPs, node ports). */
  delete<K extends Kind>(kind: K, namespace: string | undefined, name: string): KindMap[K] {
    const live = this.get(kind, namespace, name);
    if (live === undefined) throw notFound(kind, name);
    if (live.kind === 'Service') this.services?.release(live);
    const last = clone(live);
    return this.commit(last, 'DELETED') as KindMap[K];
  }
}
