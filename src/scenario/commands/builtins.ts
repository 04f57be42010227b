// Registers the programs the scenario layer understands itself: ip, bridge, sysctl, echo (for
// `echo VALUE > /proc/sys/…`) and sudo, which tutorials put in front of everything and which changes nothing
// here (the emulator has no users). Importing this module is what makes them known; parse.ts does it.

import type { Command } from '../types.js';
import type { Args } from './args.js';
import { parseBridge } from './bridge.js';
import type { CommandContext } from './dispatch.js';
import { dispatch, registerCommand } from './dispatch.js';
import { parseIp } from './ip.js';
import { parseEcho, parseSysctl } from './sysctl.js';

function parseSudo(args: Args, ctx: CommandContext): Command {
  const next = args.peek();
  if (next?.text.startsWith('-')) args.fail(next, "options of 'sudo' are not supported");
  return dispatch(args, ctx.ns, ctx.pos);
}

registerCommand('ip', parseIp);
registerCommand('bridge', parseBridge);
registerCommand('sysctl', parseSysctl);
registerCommand('echo', parseEcho);
registerCommand('sudo', parseSudo);
