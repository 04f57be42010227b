// Entry points from text to commands: tokenise (shell rules), then hand each line to the program registered
// for its first word. A source may hold several lines (a literal block); `parseCommand` wants exactly one.

import { ScenarioError } from '../errors.js';
import type { Command } from '../types.js';
import { Args } from './args.js';
import './builtins.js';
import { dispatch } from './dispatch.js';
import type { CommandLine, CommandSource } from './tokenize.js';
import { posAt, textSource, tokenize } from './tokenize.js';

export function parseCommandLine(src: CommandSource, line: CommandLine): Command {
  const args = new Args(src, line.tokens);
  return dispatch(args, null, posAt(src, line.offset));
}

/** Every command in `src`, in order; throws the first ScenarioError. */
export function parseCommands(src: CommandSource): Command[] {
  return tokenize(src).map((line) => parseCommandLine(src, line));
}

/** One command from a string (for tests and the CLI); `line`/`col` place the string inside `file`. */
export function parseCommand(text: string, file = '<command>', line = 1, col = 1): Command {
  const src = textSource(text, file, line, col);
  const lines = tokenize(src);
  const first = lines[0];
  if (first === undefined) throw ScenarioError.at(posAt(src, 0), 'empty command');
  if (lines.length > 1) {
    const extra = lines[1]!;
    const args = new Args(src, extra.tokens);
    args.fail(extra.tokens[0]!, 'expected a single command; found another line');
  }
  return parseCommandLine(src, first);
}
