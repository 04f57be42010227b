// flannel's iptables traffic manager (pkg/trafficmngr/iptables, flannel v0.28.9), run on podwire's iptables:
// - masquerade (flanneld --ip-masq): nat chain FLANNEL-POSTRTG, jumped to from POSTROUTING; in it, in order:
//   RETURN for packets kube-proxy marked (0x4000/0x4000, it masquerades those itself), RETURN pod subnet → Network
//   and Network → pod subnet (no NAT inside the overlay), RETURN for outside → pod subnet, MASQUERADE Network → not
//   multicast and outside → Network (with --random-fully, which every iptables since 1.6.2 has, unless
//   --ip-masq-fully-random-disable); every rule commented "flanneld masq". Rules of a previous network or subnet
//   (read from subnet.env) are deleted first.
// - forwarding (--iptables-forward-rules, on by default): filter chain FLANNEL-FWD, jumped to from FORWARD, that
//   ACCEPTs packets from and to the Network, commented "flanneld forward".
// Each set is installed as flannel does: the chain created (or flushed) with `iptables -N` / `-F`, then one
// `iptables-restore --noflush` whose input deletes the rules already present and appends every rule, so they end
// up together and in order. `resync` is the periodic check (every 5 s in flanneld): when a rule is missing, the
// set is installed again.
// Limits: the periodic check runs when called, not on a timer; the nftables manager is not modelled.

import { IptablesError, iptables, iptablesRestore, netfilterOf } from '../../iptables/index.js';
import type { NetNs } from '../../netns/netns.js';
import { type Cidr, formatCidr } from '../../wire/addr.js';
import type { OpLog } from './oplog.js';

/** kube-proxy's masquerade mark, which flannel leaves alone. */
export const KUBE_PROXY_MARK = '0x4000/0x4000';
export const POSTRTG_CHAIN = 'FLANNEL-POSTRTG';
export const FWD_CHAIN = 'FLANNEL-FWD';

type Table = 'nat' | 'filter';

export interface IptRule {
  table: Table;
  chain: string;
  rulespec: string[];
}

function isEmpty(c: Cidr): boolean {
  return c.addr === 0 && c.len === 0;
}

/** masqRules(Network, lease, randomFullyDisable). */
export function masqRules(network: Cidr, podSubnet: Cidr, randomFully = true): IptRule[] {
  const cluster = formatCidr(network);
  const pod = formatCidr(podSubnet);
  const c = ['-m', 'comment', '--comment', 'flanneld masq'];
  const masq = randomFully ? ['-j', 'MASQUERADE', '--random-fully'] : ['-j', 'MASQUERADE'];
  const r = (chain: string, ...spec: string[]): IptRule => ({ table: 'nat', chain, rulespec: spec });
  return [
    r('POSTROUTING', ...c, '-j', POSTRTG_CHAIN),
    r(POSTRTG_CHAIN, '-m', 'mark', '--mark', KUBE_PROXY_MARK, ...c, '-j', 'RETURN'),
    r(POSTRTG_CHAIN, '-s', pod, '-d', cluster, ...c, '-j', 'RETURN'),
    r(POSTRTG_CHAIN, '-s', cluster, '-d', pod, ...c, '-j', 'RETURN'),
    r(POSTRTG_CHAIN, '!', '-s', cluster, '-d', pod, ...c, '-j', 'RETURN'),
    r(POSTRTG_CHAIN, '-s', cluster, '!', '-d', '224.0.0.0/4', ...c, ...masq),
    r(POSTRTG_CHAIN, '!', '-s', cluster, '-d', cluster, ...c, ...masq),
  ];
}

/** forwardRules(Network). */
export function forwardRules(network: Cidr): IptRule[] {
  const n = formatCidr(network);
  const c = ['-m', 'comment', '--comment', 'flanneld forward'];
  return [
    { table: 'filter', chain: 'FORWARD', rulespec: [...c, '-j', FWD_CHAIN] },
    { table: 'filter', chain: FWD_CHAIN, rulespec: ['-s', n, ...c, '-j', 'ACCEPT'] },
    { table: 'filter', chain: FWD_CHAIN, rulespec: ['-d', n, ...c, '-j', 'ACCEPT'] },
  ];
}

/** One iptables-restore line; the word after --comment in double quotes, as flannel writes it. */
function restoreLine(action: '-A' | '-D', r: IptRule): string {
  const words = [action, r.chain, ...r.rulespec];
  return words.map((w, i) => (i > 0 && words[i - 1] === '--comment' ? `"${w}"` : w)).join(' ');
}

/** The flannel chain a rule lives in or jumps to (its existence gates the rule's checks). */
function flannelChainOf(r: IptRule): string | undefined {
  const last = r.rulespec[r.rulespec.length - 1];
  for (const ch of [FWD_CHAIN, POSTRTG_CHAIN]) if (r.chain === ch || last === ch) return ch;
  return undefined;
}

export class IptablesManager {
  /** The rule sets installed, re-checked by `resync`. */
  private readonly installed: IptRule[][] = [];

  constructor(
    readonly ns: NetNs,
    private readonly log: OpLog,
  ) {}

  private chainExists(table: Table, chain: string): boolean {
    return netfilterOf(this.ns).state.chain(table, chain) !== undefined;
  }

  /** go-iptables Exists (`-C`): a read, not recorded. */
  private exists(r: IptRule): boolean {
    try {
      iptables(this.ns, ['-t', r.table, '-C', r.chain, ...r.rulespec]);
      return true;
    } catch (e) {
      if (e instanceof IptablesError) return false;
      throw e;
    }
  }

  private run(words: string[]): void {
    this.log.run(`iptables ${words.join(' ')}`, () => iptables(this.ns, words));
  }

  /** go-iptables ClearChain: create the chain, or flush it when it exists. */
  clearChain(table: Table, chain: string): void {
    if (this.chainExists(table, chain)) this.run(['-t', table, '-F', chain]);
    else this.run(['-t', table, '-N', chain]);
  }

  private restore(lines: Map<Table, string[]>): void {
    let payload = '';
    for (const [table, rules] of lines) payload += `*${table}\n${rules.map((l) => `${l}\n`).join('')}COMMIT\n`;
    this.log.run('iptables-restore --noflush', () => iptablesRestore(this.ns, payload, { noflush: true }), payload);
  }

  /** ipTablesBootstrap: (re)create missing chains, then delete-and-append every rule in one restore. */
  bootstrap(rules: IptRule[]): void {
    const lines = new Map<Table, string[]>();
    for (const r of rules) {
      const ch = flannelChainOf(r);
      if (ch !== undefined && !this.chainExists(r.table, ch)) this.clearChain(r.table, ch);
      const l = lines.get(r.table) ?? [];
      if (this.exists(r)) l.push(restoreLine('-D', r));
      l.push(restoreLine('-A', r));
      lines.set(r.table, l);
    }
    this.restore(lines);
  }

  /** teardownIPTables: delete the rules that are there (chains that are missing are skipped). */
  teardown(rules: IptRule[]): void {
    const lines = new Map<Table, string[]>();
    for (const r of rules) {
      const ch = flannelChainOf(r);
      if (ch !== undefined && !this.chainExists(r.table, ch)) continue;
      if (!this.exists(r)) continue;
      const l = lines.get(r.table) ?? [];
      l.push(restoreLine('-D', r));
      lines.set(r.table, l);
    }
    this.restore(lines);
  }

  /** SetupAndEnsureMasqRules. */
  setupMasqRules(network: Cidr, podSubnet: Cidr, prevNetwork: Cidr, prevSubnet: Cidr, randomFully = true): void {
    if (isEmpty(network)) return;
    const same = (a: Cidr, b: Cidr) => a.addr === b.addr && a.len === b.len;
    if (!same(network, prevNetwork) || !same(prevSubnet, podSubnet))
      this.teardown(masqRules(prevNetwork, prevSubnet, randomFully));
    this.clearChain('nat', POSTRTG_CHAIN);
    this.install(masqRules(network, podSubnet, randomFully));
  }

  /** SetupAndEnsureForwardRules. */
  setupForwardRules(network: Cidr): void {
    if (isEmpty(network)) return;
    this.clearChain('filter', FWD_CHAIN);
    this.install(forwardRules(network));
  }

  private install(rules: IptRule[]): void {
    this.bootstrap(rules);
    this.installed.push(rules);
  }

  /** ensureIPTables for every installed set: a set with a missing rule (or chain) is installed again. */
  resync(): void {
    for (const rules of this.installed) {
      const ok = rules.every((r) => {
        const ch = flannelChainOf(r);
        return (ch === undefined || this.chainExists(r.table, ch)) && this.exists(r);
      });
      if (!ok) this.bootstrap(rules);
    }
  }
}
