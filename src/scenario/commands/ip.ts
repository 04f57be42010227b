// The `ip` program: global options (`-n NS`/`-netns NS`, `-4`, `-f inet`), then an object picked with iproute2's
// abbreviation rules (`ip l`, `ip a`, `ip r`, `ip n`, `ip netns`), and `ip netns add|delete|exec`. `ip netns exec
// NS COMMAND` parses COMMAND with any registered program, in namespace NS. IPv6 (`-6`, `-f inet6`) is an error.
// Display-only options (-d, -s, -j, …) are errors too: a scenario has no use for listing commands.

import type { Command } from '../types.js';
import type { Args } from './args.js';
import type { CommandContext, Where } from './dispatch.js';
import { dispatch } from './dispatch.js';
import { parseIpAddr } from './ip-addr.js';
import { parseIpLink } from './ip-link.js';
import { parseIpNeigh } from './ip-neigh.js';
import { parseIpRoute } from './ip-route.js';
import { keywords, matches, nextKeyword } from './keywords.js';
import { IPV6_UNSUPPORTED, netnsName } from './values.js';

// ip.c cmds[] order.
const OBJECTS = keywords(
  'address',
  '!addrlabel',
  '!maddress',
  'route',
  '!rule',
  'neighbor',
  'neighbour:neighbor',
  '!ntable',
  '!ntbl',
  'link',
  '!l2tp',
  '!fou',
  '!ila',
  '!macsec',
  '!tunnel',
  '!tunl',
  '!tuntap',
  '!tap',
  '!token',
  '!tcpmetrics',
  '!tcp_metrics',
  '!monitor',
  '!xfrm',
  '!mroute',
  '!mrule',
  'netns',
  '!netconf',
  '!vrf',
  '!sr',
  '!nexthop',
  '!mptcp',
  '!ioam',
  '!help',
  '!stats',
);

// do_netns() order.
const NETNS_VERBS = keywords(
  '!list',
  '!show',
  '!lst',
  '!list-id',
  '!help',
  'add',
  '!set',
  'delete',
  '!identify',
  '!pids',
  'exec',
  '!monitor',
  '!attach',
);

/** The name steps and traces use for the initial namespace; a named namespace may not take it. */
export const ROOT_NS = 'root';

/**
 * Global options shared by ip(8) and bridge(8). `--opt` is `-opt`; `-netns` and `-family` take any prefix of
 * at least one letter, as both tools match them before other options starting with the same letter.
 */
export function globalOptions(args: Args, prog: string, ns: string | null): string | null {
  let current = ns;
  for (let t = args.peek(); t?.text.startsWith('-') && t.op === undefined; t = args.peek()) {
    const tok = args.next('an option');
    if (tok.text === '--') break;
    const opt = tok.text.startsWith('--') ? tok.text.slice(1) : tok.text;
    if (opt === '-4') continue;
    if (opt === '-6') args.fail(tok, IPV6_UNSUPPORTED);
    if (opt.length >= 2 && matches(opt, '-netns')) {
      current = netnsName(args, args.next('a namespace name', tok));
    } else if (opt.length >= 2 && matches(opt, '-family')) {
      const f = args.next('a family', tok);
      if (f.text === 'inet6') args.fail(f, IPV6_UNSUPPORTED);
      if (f.text !== 'inet') args.fail(f, `family '${f.text}' is not supported (only inet)`);
    } else {
      args.fail(tok, `unsupported option '${tok.text}' for '${prog}'; supported: -n NS, -netns NS, -4, -f inet`);
    }
  }
  return current;
}

export function parseIp(args: Args, ctx: CommandContext): Command {
  const w: Where = { ns: globalOptions(args, 'ip', ctx.ns), pos: ctx.pos };
  const { id } = nextKeyword(args, OBJECTS, { what: 'object', context: 'ip' });
  switch (id) {
    case 'address':
      return parseIpAddr(args, w);
    case 'route':
      return parseIpRoute(args, w);
    case 'neighbor':
      return parseIpNeigh(args, w);
    case 'link':
      return parseIpLink(args, w);
    default:
      return parseNetns(args, w);
  }
}

function parseNetns(args: Args, w: Where): Command {
  const { id, tok } = nextKeyword(args, NETNS_VERBS, { what: 'command', context: 'ip netns' });
  const nameTok = args.next('a namespace name', tok);
  const name = netnsName(args, nameTok);
  switch (id) {
    case 'add':
      if (name === ROOT_NS)
        args.fail(nameTok, `'${ROOT_NS}' is the name of the initial namespace; choose another name`);
      args.end(`'ip netns add ${name}'`);
      return { kind: 'netnsAdd', ns: w.ns, pos: w.pos, name };
    case 'delete':
      args.end(`'ip netns delete ${name}'`);
      return { kind: 'netnsDel', ns: w.ns, pos: w.pos, name };
    default:
      return dispatch(args, name, w.pos);
  }
}
