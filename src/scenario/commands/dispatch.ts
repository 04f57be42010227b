// The table from a program name (the first word of a command) to its parser. Built-in programs register in
// builtins.ts; extensions (netfilter's `iptables`, …) call registerCommand from their own module, so adding a
// program never edits this folder. A program nobody registered is an error at its name. Parsers run with the
// cursor after the program name and must consume every word; prefixes such as `ip netns exec NS` and `sudo`
// call `dispatch` again with the namespace they select.

import type { Command, Pos } from '../types.js';
import type { Args } from './args.js';
import type { Token } from './tokenize.js';

export interface CommandContext {
  /** Namespace selected by enclosing prefixes (`null`: the initial namespace). */
  ns: string | null;
  /** Position of the whole command line's first character. */
  pos: Pos;
  /** The program-name word. */
  name: Token;
}

export type CommandParser = (args: Args, ctx: CommandContext) => Command;

const registry = new Map<string, CommandParser>();

/** Makes `name` a known program. Registering a name twice is a programming error. */
export function registerCommand(name: string, parser: CommandParser): void {
  if (registry.has(name)) throw new Error(`command '${name}' is already registered`);
  registry.set(name, parser);
}

export function isRegistered(name: string): boolean {
  return registry.has(name);
}

/** Parses the program at the cursor and everything after it. */
export function dispatch(args: Args, ns: string | null, pos: Pos): Command {
  const name = args.next('a command');
  const parser = registry.get(name.text);
  if (parser === undefined) args.fail(name, `unsupported command '${name.text}'`);
  const cmd = parser(args, { ns, pos, name });
  args.end(`'${name.text}' command`);
  return cmd;
}

/** Where a sub-parser's command runs and where its line starts. */
export type Where = Pick<CommandContext, 'ns' | 'pos'>;
