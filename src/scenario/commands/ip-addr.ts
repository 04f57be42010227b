// `ip address add|delete|flush`, following iproute2's ipaddr_modify(): options in any order, a word that is no
// keyword is the local address (`local` optional), a bare address is /32. iproute2 computes a few things in
// userspace and so do we: the broadcast address for `brd +` / `brd -` (only for prefixes up to /30) and the
// default scope (host for 127.0.0.0/8, else global).
// Limits: no peer/anycast addresses, lifetimes, metrics or address flags; flush only by device.

import type { Cidr } from '../../wire/addr.js';
import { broadcastOf, networkOf } from '../../wire/addr.js';
import type { AddrAdd, AddrDel, AddrFlush, AddrScope, Command } from '../types.js';
import type { Args } from './args.js';
import type { Where } from './dispatch.js';
import { accepted, keywords, lookupOption, nextKeyword } from './keywords.js';
import type { Token } from './tokenize.js';
import { cidr, devName, ipv4 } from './values.js';

const VERBS = keywords(
  'add',
  '!change',
  '!=chg',
  '!replace',
  'delete',
  '!list',
  '!show',
  '!lst',
  'flush',
  '!save',
  '!showdump',
  '!restore',
  '!help',
);

// ipaddr_modify() order.
const MODIFY_OPTS = keywords(
  '!=peer',
  '!=remote',
  'broadcast',
  '=brd:broadcast',
  '!=anycast',
  '=scope',
  '=dev',
  '=label',
  '!metric',
  '!priority',
  '!preference',
  '!valid_lft',
  '!preferred_lft',
  '!=nodad',
  '!=optimistic',
  '!=home',
  '!=mngtmpaddr',
  '!=noprefixroute',
  '!=autojoin',
  '!=proto',
  '=local',
  '!help',
);

const DEL_OPTS = MODIFY_OPTS.map((k) => (k.id === 'dev' || k.id === 'local' ? k : { ...k, unsupported: true }));

// ipaddr_list_flush_or_save() order.
const FLUSH_OPTS = keywords(
  '!=to',
  '!=scope',
  '!=up',
  '!=label',
  '!=group',
  '!=master',
  '!=vrf',
  '!=nomaster',
  '!=type',
  '!=proto',
  '!=novf',
  '=dev',
  '!help',
);

const SCOPES: readonly AddrScope[] = ['global', 'link', 'host'];
const IFNAMSIZ = 16;

export function parseIpAddr(args: Args, w: Where): Command {
  const { id } = nextKeyword(args, VERBS, { what: 'command', context: 'ip address' });
  if (id === 'flush') return addrFlush(args, w);
  return addrModify(args, w, id === 'add');
}

function looksLikeAddress(s: string): boolean {
  return /^[0-9]/.test(s) || /[./:]/.test(s);
}

function addrModify(args: Args, w: Where, add: boolean): AddrAdd | AddrDel {
  const context = add ? 'ip address add' : 'ip address delete';
  const table = add ? MODIFY_OPTS : DEL_OPTS;
  let local: { tok: Token; cidr: Cidr } | undefined;
  let dev: string | undefined;
  let brd: { tok: Token; value: number | '+' | '-' } | undefined;
  let scope: AddrScope | undefined;
  let label: Token | undefined;

  while (!args.done) {
    const tok = args.next('an option');
    const k = lookupOption(args, table, tok, context);
    if (k === undefined || k.id === 'local') {
      const a = k === undefined ? tok : args.next('an address', tok);
      if (k === undefined && !looksLikeAddress(a.text)) {
        args.fail(a, `unknown option '${a.text}' for '${context}'; expected one of: ${accepted(table)}`);
      }
      if (local !== undefined) args.fail(a, `address given twice (already '${local.tok.text}')`);
      local = { tok: a, cidr: cidr(args, a) };
      continue;
    }
    switch (k.id) {
      case 'dev':
        dev = devName(args, args.next('a device name', tok));
        break;
      case 'broadcast': {
        const v = args.next('a broadcast address, + or -', tok);
        brd = { tok: v, value: v.text === '+' || v.text === '-' ? v.text : ipv4(args, v, 'broadcast address') };
        break;
      }
      case 'scope': {
        const v = args.next('a scope', tok);
        if (!(SCOPES as readonly string[]).includes(v.text)) {
          args.fail(v, `invalid scope '${v.text}' (expected global, link or host)`);
        }
        scope = v.text as AddrScope;
        break;
      }
      case 'label':
        label = args.next('a label', tok);
        break;
    }
  }

  if (local === undefined) args.fail(args.last, `missing address in '${context}'`);
  if (dev === undefined) args.fail(args.last, `missing 'dev NAME' in '${context}'`);

  if (!add) {
    const cmd: AddrDel = { kind: 'addrDel', ns: w.ns, pos: w.pos, dev, addr: local.cidr.addr };
    if (local.tok.text.includes('/')) cmd.len = local.cidr.len;
    return cmd;
  }

  // The kernel's IFA_LABEL policy takes at most IFNAMSIZ-1 bytes.
  if (label !== undefined && new TextEncoder().encode(label.text).length >= IFNAMSIZ) {
    args.fail(label, `label '${label.text}' is too long (at most 15 characters)`);
  }
  const c = local.cidr;
  const cmd: AddrAdd = {
    kind: 'addrAdd',
    ns: w.ns,
    pos: w.pos,
    dev,
    cidr: c,
    scope: scope ?? (c.addr >>> 24 === 127 ? 'host' : 'global'),
  };
  if (brd !== undefined) {
    if (typeof brd.value === 'number') cmd.broadcast = brd.value;
    else if (c.len <= 30) cmd.broadcast = brd.value === '+' ? broadcastOf(c) : networkOf(c);
  }
  if (label !== undefined) cmd.label = label.text;
  return cmd;
}

function addrFlush(args: Args, w: Where): AddrFlush {
  const context = 'ip address flush';
  let dev: string | undefined;
  while (!args.done) {
    const tok = args.next('an option');
    const k = lookupOption(args, FLUSH_OPTS, tok, context, 'dev');
    const d = k === undefined ? tok : args.next('a device name', tok);
    if (dev !== undefined) args.fail(tok, `unknown option '${tok.text}' for '${context}'; expected one of: dev`);
    dev = devName(args, d);
  }
  if (dev === undefined) args.fail(args.last, `missing device in '${context}' ([dev] NAME)`);
  return { kind: 'addrFlush', ns: w.ns, pos: w.pos, dev };
}
