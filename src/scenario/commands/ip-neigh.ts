// `ip neighbor add|replace|delete`, following iproute2's ipneigh_modify(): options in any order, a word that is
// no keyword is the neighbour's address (`to` optional), `nud` defaults to permanent. Limits: no proxy entries,
// no router/managed/extern_learn flags, and only the states permanent, reachable, stale and noarp.

import type { Ipv4, Mac } from '../../wire/addr.js';
import type { NeighAdd, NeighDel, NudState } from '../types.js';
import type { Args } from './args.js';
import type { Where } from './dispatch.js';
import { accepted, keywords, lookup, lookupOption, nextKeyword } from './keywords.js';
import type { Token } from './tokenize.js';
import { devName, ipv4, mac } from './values.js';

const VERBS = keywords(
  'add',
  '!change',
  '!=chg',
  'replace',
  'delete',
  '!get',
  '!show',
  '!lst',
  '!list',
  '!flush',
  '!help',
);

// ipneigh_modify() order.
const OPTS = keywords(
  'lladdr',
  '=nud',
  '!proxy',
  '!=router',
  '!=use',
  '!=managed',
  '!extern_learn',
  '!=extern_valid',
  '=dev',
  '!protocol',
  '=to',
  '!help',
);

const DEL_OPTS = OPTS.map((k) => (k.id === 'dev' || k.id === 'to' ? k : { ...k, unsupported: true }));

// nud_state_a2n() order.
const STATES = keywords(
  'permanent',
  'reachable',
  '=noarp',
  '!=none',
  '=stale',
  '!=incomplete',
  '!=delay',
  '!=probe',
  '!failed',
);

export function parseIpNeigh(args: Args, w: Where): NeighAdd | NeighDel {
  const { id } = nextKeyword(args, VERBS, { what: 'command', context: 'ip neighbor' });
  const del = id === 'delete';
  const context = `ip neighbor ${id}`;
  const table = del ? DEL_OPTS : OPTS;
  let dst: { tok: Token; addr: Ipv4 } | undefined;
  let lladdr: Mac | undefined;
  let dev: string | undefined;
  let nud: NudState = 'permanent';

  while (!args.done) {
    const tok = args.next('an option');
    const k = lookupOption(args, table, tok, context);
    if (k === undefined || k.id === 'to') {
      const a = k === undefined ? tok : args.next('an address', tok);
      if (k === undefined && !/^[0-9]/.test(a.text) && !/[.:/]/.test(a.text)) {
        args.fail(a, `unknown option '${a.text}' for '${context}'; expected one of: ${accepted(table)}`);
      }
      if (dst !== undefined) args.fail(a, `address given twice (already '${dst.tok.text}')`);
      dst = { tok: a, addr: ipv4(args, a, 'neighbour address') };
      continue;
    }
    switch (k.id) {
      case 'lladdr':
        lladdr = mac(args, args.next('a MAC address', tok));
        break;
      case 'nud': {
        const v = args.next('a state', tok);
        const s = lookup(STATES, v.text);
        if (s === undefined || s.unsupported) {
          args.fail(v, `invalid nud state '${v.text}' (supported: ${accepted(STATES)})`);
        }
        nud = s.id as NudState;
        break;
      }
      case 'dev':
        dev = devName(args, args.next('a device name', tok));
        break;
    }
  }
  if (dst === undefined) args.fail(args.last, `missing address in '${context}'`);
  if (dev === undefined) args.fail(args.last, `missing 'dev NAME' in '${context}'`);
  if (del) return { kind: 'neighDel', ns: w.ns, pos: w.pos, dst: dst.addr, dev };
  const cmd: NeighAdd = {
    kind: 'neighAdd',
    op: id === 'replace' ? 'replace' : 'add',
    ns: w.ns,
    pos: w.pos,
    dst: dst.addr,
    dev,
    nud,
  };
  if (lladdr !== undefined) cmd.lladdr = lladdr;
  return cmd;
}
