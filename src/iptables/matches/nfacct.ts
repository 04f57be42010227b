// `-m nfacct --nfacct-name NAME` (xt_nfacct): always matches and adds the packet to a named accounting object of
// the namespace, which `nfacct add NAME` must have created (the kernel refuses the rule otherwise). The objects
// and `nfacct list`'s text live here. iptables-save prints the name after two spaces, as libxt_nfacct does.

import type { NetNs } from '../../netns/netns.js';
import { failAt } from '../args.js';
import type { ExtParser, MatchModule, RuleEnv } from '../ext.js';
import type { Match, PacketCtx } from '../types.js';
import { saveString } from '../values.js';

const EXT_KEY = 'iptables.nfacct';
const NAME_MAX = 31;

export interface NfacctObject {
  name: string;
  pkts: number;
  bytes: number;
}

/** The accounting objects of one namespace, in creation order. */
export class NfacctStore {
  readonly objects = new Map<string, NfacctObject>();

  /** `nfacct add NAME`. */
  add(name: string): NfacctObject {
    if (name.length === 0 || name.length > NAME_MAX) throw new Error(`nfacct: invalid name "${name}"`);
    if (this.objects.has(name)) throw new Error('nfacct: File exists');
    const o = { name, pkts: 0, bytes: 0 };
    this.objects.set(name, o);
    return o;
  }

  /** `nfacct list`: `{ pkts = 00000000000000000000, bytes = 00000000000000000000 } = NAME;` per object. */
  list(): string {
    let out = '';
    for (const o of this.objects.values()) {
      out += `{ pkts = ${String(o.pkts).padStart(20, '0')}, bytes = ${String(o.bytes).padStart(20, '0')} } = ${o.name};\n`;
    }
    return out;
  }
}

export function nfacctStore(ns: NetNs): NfacctStore {
  let s = ns.ext.get(EXT_KEY) as NfacctStore | undefined;
  if (s === undefined) {
    s = new NfacctStore();
    ns.ext.set(EXT_KEY, s);
  }
  return s;
}

export class NfacctMatch implements Match {
  readonly name = 'nfacct';

  constructor(readonly acct: string) {}

  matches(ctx: PacketCtx): boolean {
    const store = nfacctStore(ctx.ns);
    const o = store.objects.get(this.acct) ?? store.add(this.acct);
    o.pkts++;
    o.bytes += ctx.len;
    return true;
  }

  save(): string {
    return `-m nfacct --nfacct-name  ${saveString(this.acct)}`;
  }

  print(): string {
    return `nfacct-name  ${saveString(this.acct)}`;
  }
}

export const nfacctModule: MatchModule = {
  name: 'nfacct',
  options: [{ name: 'nfacct-name', args: 1 }],
  parser(_env: RuleEnv): ExtParser<Match> {
    let name: string | null = null;
    return {
      parse(_opt, _inv, values) {
        const v = values[0]!;
        if (v.text.length === 0 || v.text.length > NAME_MAX) failAt(v, 'nfacct: nfacct-name too long or empty');
        name = v.text;
      },
      finish(_e, at) {
        if (name === null) failAt(at, 'nfacct: option "--nfacct-name" must be specified');
      },
      create() {
        return new NfacctMatch(name!);
      },
    };
  },
};
