// `-m recent` (xt_recent): per-namespace lists of recently seen addresses, named by --name (DEFAULT), keyed by
// the source (--rsource) or destination (--rdest) address under --mask. --set adds or refreshes an entry and
// matches; --rcheck and --update match when the address is listed (with --seconds: seen within that time, with
// --hitcount: at least that often, with --rttl: from the same TTL); --update also refreshes; --remove deletes the
// entry and matches; --reap drops stamps older than --seconds. Lists hold 200 addresses (the oldest entry is
// evicted) and each remembers 20 stamps (more when --hitcount asks for more), as the module's defaults. Times
// come from virtual time.

import type { NetNs } from '../../netns/netns.js';
import type { Nanos } from '../../sim/events.js';
import { failAt } from '../args.js';
import { conflict, type ExtParser, type MatchModule, type RuleEnv } from '../ext.js';
import type { Match, PacketCtx } from '../types.js';
import { ipStr, parseIpv4Loose, parseUint } from '../values.js';

const LIST_MAX = 200;
const STAMPS_DEFAULT = 20;
const EXT_KEY = 'iptables.recent';

interface RecentEntry {
  stamps: Nanos[];
  ttl: number;
}

export class RecentTable {
  /** Insertion order is LRU order: the first key is the oldest entry. */
  readonly entries = new Map<number, RecentEntry>();

  constructor(
    readonly name: string,
    readonly maxStamps: number,
  ) {}
}

/** The namespace's recent lists by name (what /proc/net/xt_recent/ shows). */
export function recentTables(ns: NetNs): Map<string, RecentTable> {
  let m = ns.ext.get(EXT_KEY) as Map<string, RecentTable> | undefined;
  if (m === undefined) {
    m = new Map();
    ns.ext.set(EXT_KEY, m);
  }
  return m;
}

/** /proc/net/xt_recent/NAME: one line per address, oldest first, with its last stamp in nanoseconds. */
export function formatRecentTable(t: RecentTable): string {
  let out = '';
  for (const [addr, e] of t.entries) {
    out += `src=${ipStr(addr)} ttl: ${e.ttl} last_seen: ${e.stamps[e.stamps.length - 1] ?? 0} oldest_pkt: ${e.stamps.length} ${e.stamps.join(', ')}\n`;
  }
  return out;
}

type Op = 'set' | 'rcheck' | 'update' | 'remove';
const OP_TEXT: Record<Op, string> = { set: 'SET', rcheck: 'CHECK', update: 'UPDATE', remove: 'REMOVE' };

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

export class RecentMatch implements Match {
  readonly name = 'recent';

  constructor(
    readonly op: Op,
    readonly inv: boolean,
    readonly listName: string,
    readonly seconds: number,
    readonly reap: boolean,
    readonly hitcount: number,
    readonly rttl: boolean,
    readonly mask: number,
    readonly side: 'source' | 'dest',
  ) {}

  private table(ns: NetNs): RecentTable {
    const tables = recentTables(ns);
    let t = tables.get(this.listName);
    if (t === undefined) {
      t = new RecentTable(this.listName, nextPow2(Math.max(this.hitcount, STAMPS_DEFAULT)));
      tables.set(this.listName, t);
    }
    return t;
  }

  matches(ctx: PacketCtx): boolean {
    let ret = this.inv;
    const now = ctx.env.now;
    const addr = ((this.side === 'dest' ? ctx.dst : ctx.src) & this.mask) >>> 0;
    const skb = ctx.skb;
    let ttl = skb.buf[skb.nh + 8] ?? 0;
    // The TTL as it arrived: a forwarded packet has lost one hop by FORWARD and POSTROUTING (xt_recent's ttl++).
    if (ctx.outDev !== null && skb.inDev !== null) ttl++;
    const t = this.table(ctx.ns);
    let e = t.entries.get(addr);
    if (e !== undefined && this.rttl && e.ttl !== ttl) e = undefined;
    if (e === undefined) {
      if (this.op !== 'set') return ret;
      if (t.entries.size >= LIST_MAX) t.entries.delete(t.entries.keys().next().value!);
      t.entries.set(addr, { stamps: [now], ttl });
      return !ret;
    }
    if (this.op === 'set') ret = !ret;
    else if (this.op === 'remove') {
      t.entries.delete(addr);
      return !ret;
    } else {
      const since = now - this.seconds * 1e9;
      let hits = 0;
      for (const s of e.stamps) {
        if (this.seconds && s < since) continue;
        if (!this.hitcount || ++hits >= this.hitcount) {
          ret = !ret;
          break;
        }
      }
      if (this.reap) {
        e.stamps = e.stamps.filter((s) => s >= since);
        if (e.stamps.length === 0) {
          t.entries.delete(addr);
          return ret;
        }
      }
    }
    if (this.op === 'set' || (this.op === 'update' && ret)) {
      e.stamps.push(now);
      if (e.stamps.length > t.maxStamps) e.stamps.shift();
      e.ttl = ttl;
      t.entries.delete(addr);
      t.entries.set(addr, e);
    }
    return ret;
  }

  save(): string {
    let s = `-m recent${this.inv ? ' !' : ''} --${this.op}`;
    if (this.seconds) s += ` --seconds ${this.seconds}`;
    if (this.reap) s += ' --reap';
    if (this.hitcount) s += ` --hitcount ${this.hitcount}`;
    if (this.rttl) s += ' --rttl';
    s += ` --name ${this.listName} --mask ${ipStr(this.mask)} --${this.side === 'source' ? 'rsource' : 'rdest'}`;
    return s;
  }

  print(): string {
    let s = `${this.inv ? '! ' : ''}recent: ${OP_TEXT[this.op]}`;
    if (this.seconds) s += ` seconds: ${this.seconds}`;
    if (this.reap) s += ' reap';
    if (this.hitcount) s += ` hit_count: ${this.hitcount}`;
    if (this.rttl) s += ' TTL-Match';
    s += ` name: ${this.listName} side: ${this.side} mask: ${ipStr(this.mask)}`;
    return s;
  }
}

export const recentModule: MatchModule = {
  name: 'recent',
  options: [
    { name: 'set', args: 0, invert: true },
    { name: 'rcheck', args: 0, invert: true },
    { name: 'update', args: 0, invert: true },
    { name: 'remove', args: 0, invert: true },
    { name: 'seconds', args: 1 },
    { name: 'reap', args: 0 },
    { name: 'hitcount', args: 1 },
    { name: 'rttl', args: 0 },
    { name: 'name', args: 1 },
    { name: 'rsource', args: 0 },
    { name: 'rdest', args: 0 },
    { name: 'mask', args: 1 },
  ],
  parser(_env: RuleEnv): ExtParser<Match> {
    let op: Op | null = null;
    let inv = false;
    let seconds = 0;
    let reap = false;
    let hitcount = 0;
    let rttl = false;
    let name = 'DEFAULT';
    let mask = 0xffffffff;
    let side: 'source' | 'dest' | null = null;
    return {
      parse(opt, i, values, tok) {
        const v = values[0];
        switch (opt.name) {
          case 'set':
          case 'rcheck':
          case 'update':
          case 'remove':
            if (op !== null) conflict(tok, 'recent', opt.name, op);
            op = opt.name;
            inv = i;
            break;
          case 'seconds': {
            const n = parseUint(v!.text, 0, 0xffffffff);
            if (n === null) failAt(v, 'recent: bad value for option "--seconds", or out of range (0-4294967295).');
            seconds = n;
            break;
          }
          case 'hitcount': {
            const n = parseUint(v!.text, 0, 0xffffffff);
            if (n === null) failAt(v, 'recent: bad value for option "--hitcount", or out of range (0-4294967295).');
            hitcount = n;
            break;
          }
          case 'reap':
            reap = true;
            break;
          case 'rttl':
            rttl = true;
            break;
          case 'name':
            // The kernel refuses '/', '.' and '..'; whitespace and quotes would not survive iptables-save.
            if (
              v!.text === '' ||
              v!.text.length > 199 ||
              /[/\s"]/.test(v!.text) ||
              v!.text === '.' ||
              v!.text === '..'
            ) {
              failAt(v, `recent: invalid list name "${v!.text}"`);
            }
            name = v!.text;
            break;
          case 'rsource':
          case 'rdest': {
            const s = opt.name === 'rsource' ? 'source' : 'dest';
            if (side !== null && side !== s) conflict(tok, 'recent', opt.name, s === 'source' ? 'rdest' : 'rsource');
            side = s;
            break;
          }
          case 'mask': {
            const m = parseIpv4Loose(v!.text, true);
            if (m === null) failAt(v, `recent: bad value for option "--mask": "${v!.text}"`);
            mask = m;
            break;
          }
        }
      },
      finish(_e, at) {
        if (op === null) failAt(at, "recent: you must specify one of `--set', `--rcheck' `--update' or `--remove'");
        if (reap && !seconds) failAt(at, 'recent: option "--reap" also requires "--seconds".');
        if ((op === 'set' || op === 'remove') && (seconds || hitcount || reap || rttl)) {
          failAt(
            at,
            'iptables: Invalid argument (xt_recent: --seconds, --hitcount, --reap and --rttl need --rcheck or --update)',
          );
        }
        if (hitcount >= 65536)
          failAt(
            at,
            `iptables: Invalid argument (xt_recent: hitcount (${hitcount}) is larger than allowed maximum (65535))`,
          );
      },
      create() {
        return new RecentMatch(op!, inv, name, seconds, reap, hitcount, rttl, mask, side ?? 'source');
      },
    };
  },
};
