// Routing tables (the FIB) of one namespace: tables local (255) and main (254) plus numbered tables, looked up in
// the kernel's default rule order (local, main, default). Longest prefix wins; among equal prefixes the lowest metric
// (priority), then the earliest added, as the fib trie orders aliases. Route types follow rtnetlink: unicast, local,
// broadcast, blackhole, unreachable, prohibit. Text forms match `ip route show`.
// Limits: no policy rules (`ip rule`), no multipath nexthops, no TOS keys, no route cache.

import { formatIpv4, type Ipv4, prefixMask } from '../wire/addr.js';
import type { NetDev } from './netdev.js';

export type RouteType = 'unicast' | 'local' | 'broadcast' | 'blackhole' | 'unreachable' | 'prohibit';
export type RouteScope = 'global' | 'link' | 'host';

export const RT_TABLE_MAIN = 254;
export const RT_TABLE_LOCAL = 255;
export const RT_TABLE_DEFAULT = 253;

export interface Route {
  table: number;
  type: RouteType;
  dst: Ipv4;
  len: number;
  gw: Ipv4 | null;
  dev: NetDev | null;
  metric: number;
  prefsrc: Ipv4 | null;
  scope: RouteScope;
  proto: string;
  onlink: boolean;
  mtu: number | null;
  advmss: number | null;
  /** Insertion order, for stable ordering of equal routes. */
  order: number;
}

export function tableName(id: number): string {
  if (id === RT_TABLE_MAIN) return 'main';
  if (id === RT_TABLE_LOCAL) return 'local';
  if (id === RT_TABLE_DEFAULT) return 'default';
  return String(id);
}

export class Fib {
  private tables = new Map<number, Route[]>();
  private order = 0;
  /** Bumped on every change; caches keyed on it stay correct. */
  generation = 0;

  table(id: number): readonly Route[] {
    return this.tables.get(id) ?? [];
  }

  tableIds(): number[] {
    return [...this.tables.keys()].sort((a, b) => a - b);
  }

  /** Inserts keeping (len desc, metric asc, order asc) so the first match in a scan is the kernel's choice. */
  insert(r: Omit<Route, 'order'>): Route {
    const route: Route = { ...r, dst: (r.dst & prefixMask(r.len)) >>> 0, order: this.order++ };
    let t = this.tables.get(route.table);
    if (!t) {
      t = [];
      this.tables.set(route.table, t);
    }
    let i = 0;
    while (i < t.length && (t[i]!.len > route.len || (t[i]!.len === route.len && t[i]!.metric <= route.metric))) i++;
    t.splice(i, 0, route);
    this.generation++;
    return route;
  }

  remove(r: Route): boolean {
    const t = this.tables.get(r.table);
    if (!t) return false;
    const i = t.indexOf(r);
    if (i < 0) return false;
    t.splice(i, 1);
    this.generation++;
    return true;
  }

  /** Removes every route matching the predicate; returns how many. */
  removeWhere(pred: (r: Route) => boolean): number {
    let n = 0;
    for (const t of this.tables.values()) {
      for (let i = t.length - 1; i >= 0; i--) {
        if (pred(t[i]!)) {
          t.splice(i, 1);
          n++;
        }
      }
    }
    if (n) this.generation++;
    return n;
  }

  /** Exact-key search (same table, prefix, metric, and optionally type): what `ip route del/replace` address. */
  find(table: number, dst: Ipv4, len: number, pred?: (r: Route) => boolean): Route[] {
    const key = (dst & prefixMask(len)) >>> 0;
    return (this.tables.get(table) ?? []).filter((r) => r.dst === key && r.len === len && (!pred || pred(r)));
  }

  /** Longest-prefix match in one table; `usable` filters routes whose device is not running. */
  lookupTable(id: number, dst: Ipv4, usable?: (r: Route) => boolean): Route | null {
    const t = this.tables.get(id);
    if (!t) return null;
    for (let i = 0; i < t.length; i++) {
      const r = t[i]!;
      if (((dst ^ r.dst) & prefixMask(r.len)) === 0 && (!usable || usable(r))) return r;
    }
    return null;
  }

  /** Lookup in rule order local → main → default. */
  lookup(dst: Ipv4, usable?: (r: Route) => boolean): Route | null {
    return (
      this.lookupTable(RT_TABLE_LOCAL, dst, usable) ??
      this.lookupTable(RT_TABLE_MAIN, dst, usable) ??
      this.lookupTable(RT_TABLE_DEFAULT, dst, usable)
    );
  }
}

/**
 * One route as `ip route show [table X]` prints it. `showTable` adds `table T` (not for main) where iproute2's
 * print_route puts it: right after `dev`, or after `via` / the prefix when there is no device.
 */
export function formatRoute(r: Route, opts: { showTable?: boolean } = {}): string {
  const parts: string[] = [];
  if (r.type !== 'unicast') parts.push(r.type);
  parts.push(
    r.len === 0 && r.type === 'unicast'
      ? 'default'
      : r.len === 32
        ? formatIpv4(r.dst)
        : `${formatIpv4(r.dst)}/${r.len}`,
  );
  if (r.len === 0 && r.type !== 'unicast') parts[parts.length - 1] = 'default';
  const table = opts.showTable && r.table !== RT_TABLE_MAIN;
  if (r.gw !== null) parts.push('via', formatIpv4(r.gw));
  if (r.dev) parts.push('dev', r.dev.name);
  if (table) parts.push('table', tableName(r.table));
  if (r.proto !== 'boot') parts.push('proto', r.proto);
  if (r.scope !== 'global') parts.push('scope', r.scope);
  if (r.prefsrc !== null) parts.push('src', formatIpv4(r.prefsrc));
  if (r.metric !== 0) parts.push('metric', String(r.metric));
  if (r.onlink) parts.push('onlink');
  // RTNH_F_LINKDOWN: fib_check_nh sets it on a nexthop whose device has no carrier, and fib_sync_down_dev /
  // fib_sync_up follow carrier changes; host-scope nexthops (local routes) are never checked, so never marked.
  if (r.dev !== null && r.scope !== 'host' && !r.dev.carrier()) parts.push('linkdown');
  if (r.mtu !== null) parts.push('mtu', String(r.mtu));
  if (r.advmss !== null) parts.push('advmss', String(r.advmss));
  return parts.join(' ');
}
