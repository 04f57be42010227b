// Netfilter in one namespace: the iptables tables hooked into the IP stack at the kernel's hook points and
// priorities, with connection tracking and NAT between them:
//   PREROUTING  raw(-300) → conntrack(-200) → mangle(-150) → nat/DNAT(-100)
//   INPUT       mangle(-150) → filter(0) → nat/SNAT(100) → conntrack confirm(last)
//   FORWARD     mangle(-150) → filter(0)
//   OUTPUT      raw(-300) → conntrack(-200) → mangle(-150) → nat/DNAT(-100) → filter(0)
//   POSTROUTING mangle(-150) → nat/SNAT(100) → conntrack confirm(last)
// As with iptables-nft, a table hooks in only once something wrote it, and conntrack runs only while a rule needs
// it (a NAT target, a conntrack/state/connmark match, CONNMARK, NOTRACK/CT): a filter-only namespace tracks
// nothing, and its nat table (if any) is never walked. The nat table is walked only for a connection's first packet;
// later packets get the recorded binding. Bridged frames (br_netfilter) cross the same hooks; a frame that crossed
// PREROUTING on the bridge and then goes up to the bridge's own IP stack does not cross it a second time. After a
// commit only the chains it changed are indexed again and checked for rules that need conntrack.

import type { NfHook, NfHookOps, NfState, NfVerdict } from '../netns/hooks.js';
import type { NetNs } from '../netns/netns.js';
import { ipRouteOutput } from '../netns/route.js';
import type { Skb } from '../netns/skb.js';
import { formatIpv4 } from '../wire/addr.js';
import { type Conntrack, getConntrack } from './conntrack/index.js';
import { readPacketFields } from './packet.js';
import { nfReject } from './reject.js';
import { NetfilterState } from './state.js';
import { registerNetfilterTraceFormatters } from './trace.js';
import { ChainIndex, doTable, portKey } from './traverse.js';
import type { Chain, CtDir, CtState, PacketCtx, Rule, TableName, TargetEnv } from './types.js';
import { chainSummary } from './validate.js';

declare module '../netns/skb.js' {
  interface SkbExt {
    /** The namespace whose bridge already ran PREROUTING for this frame (br_netfilter's BRNF_PKT_TYPE marking). */
    brnfPrerouted?: NetNs | undefined;
    /** Set by the TRACE target. */
    nftrace?: boolean | undefined;
  }
}

export const NETFILTER_EXT_KEY = 'netfilter';

const PRI = { RAW: -300, CONNTRACK: -200, MANGLE: -150, NAT_DST: -100, FILTER: 0, NAT_SRC: 100, CONFIRM: 0x7fffffff };

/** The index key of a rule: an exact `-d X/32`, else an exact TCP/UDP destination port. */
function ruleKey(r: Rule): { dst?: number; port?: number } | null {
  if (r.dst && !r.dst.inv && r.dst.mask === 0xffffffff) return { dst: r.dst.addr };
  if (r.proto && !r.proto.inv && (r.proto.num === 6 || r.proto.num === 17)) {
    for (const m of r.matches) {
      const pm = m as unknown as { name: string; dport?: number | null; dportInv?: boolean };
      if ((pm.name === 'tcp' || pm.name === 'udp') && typeof pm.dport === 'number' && !pm.dportInv)
        return { port: portKey(r.proto.num, pm.dport) };
    }
  }
  return null;
}

const TABLES: readonly TableName[] = ['raw', 'mangle', 'nat', 'filter'];

/** Chains up to this many rules are compiled when first walked rather than at commit. */
const SHORT_CHAIN = 16;

export class NsNetfilter {
  readonly state = new NetfilterState();
  readonly index = new ChainIndex(ruleKey);
  private ops: NfHookOps[] = [];
  private syncedGen = -1;
  private ctOn = false;
  /** Chains committed since the last sync, per table (null: the whole table). */
  private readonly pending = new Map<TableName, Set<string> | null>(TABLES.map((t) => [t, null]));
  /**
   * Per table, whether any chain holds a rule that needs conntrack. Kept as one flag, not a set of names: a full
   * kube-proxy sync writes a hundred thousand DNAT chains, and a later change is decided from the chains it changed
   * (the whole table is read again only when a change may have removed the last such chain).
   */
  private readonly ctAny: Record<TableName, boolean> = { raw: false, mangle: false, nat: false, filter: false };

  constructor(readonly ns: NetNs) {
    this.state.observe((change) => {
      const p = this.pending.get(change.table);
      // A change to most of the table is cheaper to take as a whole than name by name.
      if (change.names === null || change.names.length > this.state.table(change.table).chains.size / 2)
        this.pending.set(change.table, null);
      else if (p !== null && p !== undefined) for (const n of change.names) p.add(n);
    });
  }

  get conntrack(): Conntrack | null {
    return this.ctOn ? getConntrack(this.ns) : null;
  }

  /** Re-registers hooks after the ruleset changed: tables that exist, conntrack if any rule needs it. */
  sync(): void {
    if (this.syncedGen === this.state.generation) return;
    this.syncedGen = this.state.generation;
    // Compile the index of every long chain a commit changed now, at commit time, so no packet pays for it
    // (kube-proxy commits rarely and sends many packets; its KUBE-SERVICES has a rule per Service); chains no commit
    // touched keep theirs. A short chain is compiled by the first packet that walks it: that costs the packet a few
    // rule reads, and a full kube-proxy sync writes a hundred thousand short chains most packets never visit.
    for (const t of TABLES) {
      const names = this.pending.get(t);
      const chains = this.state.table(t).chains;
      let any = false;
      if (names === null || names === undefined) {
        chains.forEach((c) => {
          if (c.rules.length > SHORT_CHAIN) this.index.get(c, this.state.generation);
          if (!any && chainSummary(c, t).conntrack) any = true;
        });
      } else {
        for (const n of names) {
          const c = chains.get(n);
          if (c === undefined) continue;
          if (c.rules.length > SHORT_CHAIN) this.index.get(c, this.state.generation);
          if (!any && chainSummary(c, t).conntrack) any = true;
        }
        // None of the changed chains needs conntrack: whether another still does is known only if none did.
        if (!any && this.ctAny[t] && names.size > 0) {
          chains.forEach((c) => {
            if (!any && chainSummary(c, t).conntrack) any = true;
          });
        } else if (!any) any = this.ctAny[t];
      }
      this.ctAny[t] = any;
      this.pending.set(t, new Set());
    }
    for (const o of this.ops) this.ns.hooks.unregister(o);
    this.ops = [];
    const exists = (t: TableName) => this.state.table(t).exists;
    this.ctOn = TABLES.some((t) => exists(t) && this.ctAny[t]);
    const reg = (hook: NfHook, priority: number, name: string, fn: NfHookOps['fn']) => {
      const o: NfHookOps = { hook, priority, name, fn };
      this.ops.push(o);
      this.ns.hooks.register(o);
    };
    if (exists('raw'))
      for (const h of ['PREROUTING', 'OUTPUT'] as const) reg(h, PRI.RAW, 'raw', (s, st) => this.table('raw', s, st));
    if (this.ctOn) {
      for (const h of ['PREROUTING', 'OUTPUT'] as const)
        reg(h, PRI.CONNTRACK, 'conntrack', (s, st) => this.ctIn(s, st));
      for (const h of ['POSTROUTING', 'INPUT'] as const)
        reg(h, PRI.CONFIRM, 'conntrack-confirm', (s, st) => this.ctConfirm(s, st));
    }
    if (exists('mangle'))
      for (const h of ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'] as const)
        reg(h, PRI.MANGLE, 'mangle', (s, st) => this.table('mangle', s, st));
    if (exists('nat') && this.ctOn) {
      for (const h of ['PREROUTING', 'OUTPUT'] as const) reg(h, PRI.NAT_DST, 'nat', (s, st) => this.nat(s, st));
      for (const h of ['POSTROUTING', 'INPUT'] as const) reg(h, PRI.NAT_SRC, 'nat', (s, st) => this.nat(s, st));
    }
    if (exists('filter'))
      for (const h of ['INPUT', 'FORWARD', 'OUTPUT'] as const)
        reg(h, PRI.FILTER, 'filter', (s, st) => this.table('filter', s, st));
  }

  /** PREROUTING already ran on the bridge for this frame: the routed pass skips it (br_netfilter). */
  private skipPrerouting(skb: Skb, st: NfState): boolean {
    if (st.hook !== 'PREROUTING') return false;
    if (st.bridged) {
      skb.ext.brnfPrerouted = this.ns;
      return false;
    }
    return skb.ext.brnfPrerouted === this.ns;
  }

  private ctIn(skb: Skb, st: NfState): NfVerdict {
    if (this.skipPrerouting(skb, st)) return 'accept';
    const ct = getConntrack(this.ns);
    const r = ct.inPacket(skb, skb.nh, st.hook, st.inDev);
    const tr = this.ns.kernel.tracer;
    if (tr.tracing) {
      const c = r.ct;
      tr.emit(this.ns.name, skb.id, 'ct', {
        hook: st.hook,
        state: r.state,
        dir: r.dir,
        tuple: c ? tupleText(c.original) : '-',
        action: r.isNew ? 'new' : c ? 'found' : r.reason ? `invalid: ${r.reason}` : 'untracked',
      });
    }
    return 'accept';
  }

  private ctConfirm(skb: Skb, _st: NfState): NfVerdict {
    const v = getConntrack(this.ns).confirm(skb);
    return v;
  }

  private nat(skb: Skb, st: NfState): NfVerdict {
    if (this.skipPrerouting(skb, st)) return 'accept';
    const ct = getConntrack(this.ns);
    if (ct.natRulesWanted(skb, st.hook)) {
      const v = this.table('nat', skb, st);
      if (v !== 'accept') return v;
    }
    const r = ct.natPacket(skb, st.hook, st.outDev);
    const tr = this.ns.kernel.tracer;
    if (r.rewrite && tr.tracing)
      tr.emit(this.ns.name, skb.id, 'nat', {
        hook: st.hook,
        what: r.rewrite.what,
        from: r.rewrite.from,
        to: r.rewrite.to,
        ...(r.rewrite.icmpError ? { detail: '(inside an ICMP error)' } : {}),
      });
    if (r.verdict === 'drop') ct.release(skb);
    return r.verdict;
  }

  /** Walks `table`'s built-in chain for this hook. */
  private table(table: TableName, skb: Skb, st: NfState): NfVerdict {
    if (table !== 'nat' && this.skipPrerouting(skb, st)) return 'accept';
    const t = this.state.table(table);
    const builtin = t.chains.get(st.hook);
    if (!builtin) return 'accept';
    const ctx = this.makeCtx(table, skb, st);
    const tr = this.ns.kernel.tracer;
    const onEvent = tr.tracing
      ? (chain: Chain, num: number, rule: Rule | null, kind: 'rule' | 'policy' | 'return', verdict: string) =>
          tr.emit(this.ns.name, skb.id, 'nf', {
            table,
            chain: chain.name,
            hook: st.hook,
            kind,
            num,
            ...(rule ? { rule: rule.text } : {}),
            verdict,
          })
      : null;
    const v = doTable(t.chains, builtin, ctx, this.index, this.state.generation, onEvent);
    if (v === 'drop' && this.ctOn) getConntrack(this.ns).release(skb);
    return v;
  }

  private makeCtx(table: TableName, skb: Skb, st: NfState): PacketCtx {
    const ns = this.ns;
    const env: TargetEnv = {
      rng: ns.kernel.rng,
      now: ns.kernel.now,
      nat: (kind, range) => {
        const conn = skb.ext.ct;
        if (!conn || !this.ctOn) return 'accept';
        let nextHop: number | undefined;
        if (kind === 'MASQUERADE') {
          const rt = ipRouteOutput(ns, ctx.dst);
          nextHop = typeof rt === 'string' ? ctx.dst : rt.nexthop;
        }
        return getConntrack(ns).setupNat(conn, kind, range, {
          hook: st.hook,
          ns,
          inDev: st.inDev,
          outDev: st.outDev,
          ...(nextHop !== undefined ? { nextHop } : {}),
        });
      },
      reject: (kind) => {
        const attach = this.ctOn ? (out: Skb) => getConntrack(ns).attachRelated(out, skb) : undefined;
        nfReject(ns, skb, kind, attach);
      },
      log: (prefix, text) => {
        const tr = ns.kernel.tracer;
        if (tr.tracing) tr.emit(ns.name, skb.id, 'stage', { stage: 'LOG', detail: `${prefix}${text}` });
      },
      trace: () => {
        skb.ext.nftrace = true;
      },
      notrack: () => {
        getConntrack(ns).setUntracked(skb);
      },
    };
    const ext = skb.ext;
    const own = ext.ctTable !== undefined && this.ctOn && ext.ctTable === getConntrack(ns);
    const ctx: PacketCtx = {
      ns,
      skb,
      hook: st.hook,
      table,
      inDev: st.inDev,
      outDev: st.outDev,
      physIn: st.physIn ?? null,
      physOut: st.physOut ?? null,
      bridged: st.bridged,
      proto: 0,
      src: 0,
      dst: 0,
      sport: 0,
      dport: 0,
      tcpFlags: 0,
      icmpType: -1,
      icmpCode: -1,
      fragment: false,
      len: 0,
      ct: own ? (ext.ct ?? null) : null,
      ctState: own ? ((ext.ctState ?? 'INVALID') as CtState) : 'UNTRACKED',
      ctDir: own ? ((ext.ctDir ?? 'ORIGINAL') as CtDir) : 'ORIGINAL',
      env,
    };
    readPacketFields(skb, ctx);
    return ctx;
  }
}

function tupleText(t: { proto: number; src: number; dst: number; sport: number; dport: number }): string {
  return `proto ${t.proto} ${formatIpv4(t.src)}:${t.sport} → ${formatIpv4(t.dst)}:${t.dport}`;
}

/** The namespace's netfilter, created on first use. */
export function netfilterOf(ns: NetNs): NsNetfilter {
  let nf = ns.ext.get(NETFILTER_EXT_KEY) as NsNetfilter | undefined;
  if (!nf) {
    registerNetfilterTraceFormatters();
    nf = new NsNetfilter(ns);
    ns.ext.set(NETFILTER_EXT_KEY, nf);
  }
  return nf;
}
