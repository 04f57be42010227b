// What the ruleset generator (ruleset.ts) keeps between syncs of one proxier:
// - per service port, the lines and bookkeeping of the sync that last wrote it, so a partial sync repeats an
//   unchanged one's filter and KUBE-SERVICES/KUBE-NODEPORTS lines verbatim and counts the chain rules it leaves out;
// - the service ports in the order rules are written, cut into groups whose lines are also kept joined: a partial
//   sync re-reads only the groups holding a service port that changed, and copies the rest as blocks;
// - the nat chains in use, built the first time a stale-chain check needs them and then moved service by service.
// It follows LoggedMap inputs through their logs (plus the Services named as changed); for any other map, a full
// sync, or a change of zone or of large-cluster mode, every service port is checked again as without a cache.
// Limits: endpoint arrays must be replaced, not changed in place (the proxier's change trackers replace them).

import type { EndpointsMap, ServicePortMap } from './changetracker.js';
import type { EndpointInfo } from './endpoint.js';
import { LoggedMap } from './loggedmap.js';
import type { ServicePortInfo } from './serviceport.js';

export interface CachedService {
  endpoints: readonly EndpointInfo[];
  zone: string;
  large: boolean;
  /** filter lines, and the nat lines outside the service's own chains (KUBE-SERVICES, KUBE-NODEPORTS). */
  filter: readonly string[];
  nat: readonly string[];
  /** Rules in the service's own chains, and those chains. */
  chainRules: number;
  active: readonly string[];
  noLocalInternal: number;
  noLocalExternal: number;
}

export interface ServiceGroup {
  /** In write order. */
  members: ServicePortInfo[];
  /** What each member wrote at its last sync (undefined for one that joined since). */
  entries: (CachedService | undefined)[];
  /** A member changed (or joined or left): the fields below are stale. */
  dirty: boolean;
  /** The members' filter lines, and their nat lines outside their own chains, each line ending in a newline. */
  filterText: string;
  filterLines: number;
  natText: string;
  natLines: number;
  chainRules: number;
  noLocalInternal: number;
  noLocalExternal: number;
  /** The members' chains. */
  active: readonly (readonly string[])[];
}

/** Members per group when groups are (re)cut; a group splits past twice this. */
export const GROUP_SIZE = 64;

/** Write order: by `ns/name:port`, then protocol. */
export const byName = (a: ServicePortInfo, b: ServicePortInfo): number =>
  a.nameString < b.nameString ? -1 : a.nameString > b.nameString ? 1 : a.protocol < b.protocol ? -1 : 1;

function newGroup(members: ServicePortInfo[], entries: (CachedService | undefined)[]): ServiceGroup {
  return {
    members,
    entries,
    dirty: true,
    filterText: '',
    filterLines: 0,
    natText: '',
    natLines: 0,
    chainRules: 0,
    noLocalInternal: 0,
    noLocalExternal: 0,
    active: [],
  };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function joinLines(lines: string[]): string {
  if (lines.length === 0) return '';
  lines.push('');
  return lines.join('\n');
}

/** Where `svc` is or would go among sorted `members`: the first index whose member does not sort before it. */
function position(members: readonly ServicePortInfo[], svc: ServicePortInfo): number {
  let a = 0;
  let b = members.length;
  while (a < b) {
    const mid = (a + b) >> 1;
    if (byName(members[mid]!, svc) < 0) a = mid + 1;
    else b = mid;
  }
  return a;
}

export class RulesetCache {
  groups: ServiceGroup[] = [];
  /** Endpoints of all service ports at the last sync. */
  totalEndpoints = 0;
  /** What the last sync was generated with: the configuration object, its zone, large-cluster mode. */
  cfg: object | null = null;
  zone = '';
  large = false;
  /** Union of the entries' chains, or null until a stale-chain check needs it. */
  active: Set<string> | null = null;
  /** How many more service ports use a chain than the one `active` counts (only a hash collision shares one). */
  private readonly sharers = new Map<string, number>();
  private readonly byKey = new Map<string, ServicePortInfo>();
  private readonly byService = new Map<string, ServicePortInfo[]>();
  /** The maps followed through their logs, and how often their logs had been taken when this cache took them. */
  private services: LoggedMap<ServicePortInfo> | null = null;
  private endpoints: LoggedMap<EndpointInfo[]> | null = null;
  private servicesTakes = -1;
  private endpointsTakes = -1;

  /**
   * Brings the groups up to date with the maps and marks dirty every group holding a service port that may write
   * other lines now: one set, replaced or removed in `services`, one whose endpoints were set in `endpoints`, one
   * of a Service in `changed`. Returns the total endpoint count, and whether the maps were followed (when they were
   * not, every group is dirty).
   */
  follow(
    services: ServicePortMap,
    endpoints: EndpointsMap,
    changed: ReadonlySet<string>,
  ): { followed: boolean; totalEndpoints: number } {
    if (
      this.services !== null &&
      this.services === services &&
      this.endpoints === endpoints &&
      this.services.takes === this.servicesTakes &&
      this.endpoints.takes === this.endpointsTakes
    ) {
      const serviceLog = this.services.take();
      const endpointLog = this.endpoints.take();
      this.servicesTakes = this.services.takes;
      this.endpointsTakes = this.endpoints.takes;
      const touched = new Set<ServicePortInfo>();
      let followed = true;
      for (const key of serviceLog) {
        const before = this.byKey.get(key);
        const now = services.get(key);
        if (before === now) continue;
        if (now !== undefined && (now.key !== key || this.locate(now) !== null)) {
          followed = false;
          break;
        }
        if (before !== undefined) this.remove(before);
        if (now !== undefined) {
          this.add(now);
          touched.add(now);
        }
      }
      if (followed) {
        for (const key of endpointLog) {
          const svc = this.byKey.get(key);
          if (svc !== undefined) touched.add(svc);
        }
        for (const name of changed) for (const svc of this.byService.get(name) ?? []) touched.add(svc);
        let total = this.totalEndpoints;
        for (const svc of touched) {
          const [g, i] = this.locate(svc)!;
          total += (endpoints.get(svc.key)?.length ?? 0) - (g.entries[i]?.endpoints.length ?? 0);
          g.dirty = true;
        }
        return { followed: true, totalEndpoints: total };
      }
    }
    return { followed: false, totalEndpoints: this.rebuild(services, endpoints) };
  }

  /** Re-sorts every service port into fresh groups, keeping the entries of those still there. */
  private rebuild(services: ServicePortMap, endpoints: EndpointsMap): number {
    const values = [...services.values()];
    const kept = new Map<ServicePortInfo, CachedService>();
    for (const g of this.groups)
      g.members.forEach((svc, i) => {
        const e = g.entries[i];
        if (e !== undefined) kept.set(svc, e);
      });
    this.byKey.clear();
    this.byService.clear();
    let followable = services instanceof LoggedMap && endpoints instanceof LoggedMap;
    for (const [key, svc] of services) {
      if (svc.key !== key) followable = false;
      this.index(svc);
    }
    if (this.byKey.size !== values.length) followable = false;
    this.cut(values.sort(byName), kept);
    for (const e of kept.values()) this.release(e.active);
    let total = 0;
    for (const svc of values) total += endpoints.get(svc.key)?.length ?? 0;
    if (followable) {
      this.services = services as LoggedMap<ServicePortInfo>;
      this.endpoints = endpoints as LoggedMap<EndpointInfo[]>;
      this.services.take();
      this.endpoints.take();
      this.servicesTakes = this.services.takes;
      this.endpointsTakes = this.endpoints.takes;
    } else {
      this.services = null;
      this.endpoints = null;
    }
    return total;
  }

  /**
   * Cuts the service ports, in write order, into fresh (dirty) groups; entries found in `from` move along and are
   * taken out of it.
   */
  cut(sorted: readonly ServicePortInfo[], from: Map<ServicePortInfo, CachedService>): void {
    this.groups = [];
    for (let i = 0; i < sorted.length; i += GROUP_SIZE) {
      const members = sorted.slice(i, i + GROUP_SIZE);
      const entries = members.map((svc) => {
        const e = from.get(svc);
        from.delete(svc);
        return e;
      });
      this.groups.push(newGroup(members, entries));
    }
  }

  /** Re-cuts the groups evenly (all dirty). */
  recut(): void {
    const sorted: ServicePortInfo[] = [];
    const entries = new Map<ServicePortInfo, CachedService>();
    for (const g of this.groups)
      g.members.forEach((svc, i) => {
        sorted.push(svc);
        const e = g.entries[i];
        if (e !== undefined) entries.set(svc, e);
      });
    this.cut(sorted, entries);
  }

  /** The group and index of a service port, or null. */
  private locate(svc: ServicePortInfo): [ServiceGroup, number] | null {
    const groups = this.groups;
    // The last group whose first member does not sort after svc.
    let lo = 0;
    let hi = groups.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      const first = groups[mid]!.members[0]!;
      if (first === svc || byName(first, svc) < 0) lo = mid;
      else hi = mid - 1;
    }
    const g = groups[lo];
    if (g === undefined) return null;
    const i = position(g.members, svc);
    return g.members[i] === svc ? [g, i] : null;
  }

  private index(svc: ServicePortInfo): void {
    this.byKey.set(svc.key, svc);
    const ports = this.byService.get(svc.service);
    if (ports === undefined) this.byService.set(svc.service, [svc]);
    else ports.push(svc);
  }

  private add(svc: ServicePortInfo): void {
    this.index(svc);
    const groups = this.groups;
    if (groups.length === 0) {
      groups.push(newGroup([svc], [undefined]));
      return;
    }
    // The last group whose first member sorts before svc (the first group when none does).
    let lo = 0;
    let hi = groups.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (byName(groups[mid]!.members[0]!, svc) < 0) lo = mid;
      else hi = mid - 1;
    }
    const g = groups[lo]!;
    const at = position(g.members, svc);
    g.members.splice(at, 0, svc);
    g.entries.splice(at, 0, undefined);
    g.dirty = true;
    if (g.members.length > 2 * GROUP_SIZE)
      groups.splice(lo + 1, 0, newGroup(g.members.splice(GROUP_SIZE), g.entries.splice(GROUP_SIZE)));
  }

  private remove(svc: ServicePortInfo): void {
    this.byKey.delete(svc.key);
    const ports = this.byService.get(svc.service);
    if (ports !== undefined) {
      ports.splice(ports.indexOf(svc), 1);
      if (ports.length === 0) this.byService.delete(svc.service);
    }
    const at = this.locate(svc);
    if (at === null) return;
    const [g, i] = at;
    const old = g.entries[i];
    g.members.splice(i, 1);
    g.entries.splice(i, 1);
    g.dirty = true;
    if (g.members.length === 0) this.groups.splice(this.groups.indexOf(g), 1);
    if (old !== undefined) {
      this.totalEndpoints -= old.endpoints.length;
      this.release(old.active);
    }
  }

  /** Recomputes a dirty group's joined lines and sums from its members' entries. */
  seal(g: ServiceGroup): void {
    const filter: string[] = [];
    const nat: string[] = [];
    const active: (readonly string[])[] = [];
    let chainRules = 0;
    let noLocalInternal = 0;
    let noLocalExternal = 0;
    for (const e of g.entries) {
      if (e === undefined) throw new Error('ruleset cache: a service port was not written');
      for (const l of e.filter) filter.push(l);
      for (const l of e.nat) nat.push(l);
      active.push(e.active);
      chainRules += e.chainRules;
      noLocalInternal += e.noLocalInternal;
      noLocalExternal += e.noLocalExternal;
    }
    g.filterLines = filter.length;
    g.filterText = joinLines(filter);
    g.natLines = nat.length;
    g.natText = joinLines(nat);
    g.chainRules = chainRules;
    g.noLocalInternal = noLocalInternal;
    g.noLocalExternal = noLocalExternal;
    g.active = active;
    g.dirty = false;
  }

  /** Records member `i`'s new entry, moving `active` from its old chains to its new ones. */
  store(g: ServiceGroup, i: number, entry: CachedService): void {
    const old = g.entries[i];
    g.entries[i] = entry;
    if (this.active === null || (old !== undefined && sameList(old.active, entry.active))) return;
    if (old !== undefined) this.release(old.active);
    this.claim(entry.active);
  }

  /** Builds `active` from the chains of every entry. */
  buildActive(): Set<string> {
    this.active = new Set();
    this.sharers.clear();
    for (const g of this.groups) for (const e of g.entries) if (e !== undefined) this.claim(e.active);
    return this.active;
  }

  private claim(chains: readonly string[]): void {
    const active = this.active;
    if (active === null) return;
    for (const c of chains) {
      const n = active.size;
      active.add(c);
      if (active.size === n) this.sharers.set(c, (this.sharers.get(c) ?? 0) + 1);
    }
  }

  private release(chains: readonly string[]): void {
    const active = this.active;
    if (active === null) return;
    for (const c of chains) {
      const extra = this.sharers.get(c);
      if (extra === undefined) active.delete(c);
      else if (extra === 1) this.sharers.delete(c);
      else this.sharers.set(c, extra - 1);
    }
  }
}
