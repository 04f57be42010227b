// Netfilter in scenarios: the `iptables` program as a setup command (any command line iptables accepts, in the
// namespace `ip netns exec` selects), and iptables-restore documents given as a setup item
// `{ iptables-restore: | …, ns: NAME, noflush: true, counters: true }` whose text (an iptables-restore input or a
// pasted iptables-save dump) keeps exact file positions. Parsing happens when the scenario loads, so a bad rule is
// an error at its word; applying goes to the namespace's tables (netfilterOf). A plain `iptables-restore` line has
// no input to read and is refused with a pointer to the mapping form. Importing this module registers all of it
// (the program parsers, the setup item and the appliers); whoever enables netfilter in a run imports it.

import type { Arg } from '../../iptables/args.js';
import { applyIptablesCommand, type IptablesCommand, parseIptablesArgs } from '../../iptables/command.js';
import { IptablesError } from '../../iptables/errors.js';
import { netfilterOf } from '../../iptables/netfilter.js';
import { applyRestore, parseRestore, type RestorePlan } from '../../iptables/restore.js';
import type { Kernel } from '../../netns/kernel.js';
import type { NetNs } from '../../netns/netns.js';
import { registerApplier } from '../apply.js';
import { ScenarioError } from '../errors.js';
import { registerSetupItem } from '../loader.js';
import type { CommandBase, Pos } from '../types.js';
import type { Args } from './args.js';
import type { CommandContext } from './dispatch.js';
import { registerCommand } from './dispatch.js';
import type { CommandSource } from './tokenize.js';

/** `iptables …` in setup. */
export interface IptablesSetup extends CommandBase {
  kind: 'iptables';
  command: IptablesCommand;
}

/** An iptables-restore document in setup. */
export interface IptablesRestoreSetup extends CommandBase {
  kind: 'iptablesRestore';
  plan: RestorePlan;
}

declare module '../types.js' {
  interface CommandKinds {
    iptables: IptablesSetup;
    iptablesRestore: IptablesRestoreSetup;
  }
}

/** The initial namespace's name in scenarios. */
const ROOT = 'root';

function toScenarioError(e: unknown, fallback: Pos): unknown {
  if (e instanceof IptablesError) return ScenarioError.at(e.pos ?? fallback, e.message);
  return e;
}

function parseIptables(args: Args, ctx: CommandContext): IptablesSetup {
  const words: Arg[] = [];
  while (!args.done) {
    const t = args.next('a word');
    words.push({ text: t.text, pos: args.pos(t) });
  }
  try {
    return { kind: 'iptables', ns: ctx.ns, pos: ctx.pos, command: parseIptablesArgs(words, ctx.pos) };
  } catch (e) {
    throw toScenarioError(e, args.pos(ctx.name));
  }
}

function parsePlainRestore(args: Args, ctx: CommandContext): never {
  return args.fail(
    ctx.name,
    "iptables-restore reads its rules from standard input: write the setup item as a mapping, '- iptables-restore: |' followed by the rules",
  );
}

/**
 * The setup item `{ iptables-restore: TEXT, ns?, noflush?, counters? }`: `src` is the text with its file positions,
 * `pos` the item's start.
 */
export function parseRestoreItem(
  src: CommandSource,
  opts: { ns?: string; noflush?: boolean; counters?: boolean },
  pos: Pos,
): IptablesRestoreSetup {
  try {
    const plan = parseRestore(src.text, src.file, (offset) => src.locate(offset), {
      noflush: opts.noflush ?? false,
      counters: opts.counters ?? false,
    });
    const ns = opts.ns === undefined || opts.ns === ROOT ? null : opts.ns;
    return { kind: 'iptablesRestore', ns, pos, plan };
  } catch (e) {
    throw toScenarioError(e, pos);
  }
}

function nsOf(k: Kernel, name: string | null): NetNs {
  return name === null ? k.root : k.netns(name);
}

function applyIptables(k: Kernel, cmd: IptablesSetup): void {
  const nf = netfilterOf(nsOf(k, cmd.ns));
  try {
    applyIptablesCommand(nf.state, cmd.command);
  } catch (e) {
    throw toScenarioError(e, cmd.pos);
  } finally {
    nf.sync();
  }
}

function applyIptablesRestore(k: Kernel, cmd: IptablesRestoreSetup): void {
  const nf = netfilterOf(nsOf(k, cmd.ns));
  try {
    applyRestore(nf.state, cmd.plan);
  } catch (e) {
    throw toScenarioError(e, cmd.pos);
  } finally {
    // Blocks committed before a refusal stay, as with iptables-restore; the hooks must follow them.
    nf.sync();
  }
}

registerCommand('iptables', parseIptables);
registerCommand('iptables-restore', parsePlainRestore);
registerApplier('iptables', applyIptables);
registerApplier('iptablesRestore', applyIptablesRestore);
registerSetupItem('iptables-restore', (src, fields, pos) =>
  parseRestoreItem(
    src,
    {
      ...(typeof fields.ns === 'string' ? { ns: fields.ns } : {}),
      ...(typeof fields.noflush === 'boolean' ? { noflush: fields.noflush } : {}),
      ...(typeof fields.counters === 'boolean' ? { counters: fields.counters } : {}),
    },
    pos,
  ),
);
