// A cursor over the words of one command, in the style of iproute2's NEXT_ARG()/argc/argv loop. Every error it
// raises is a ScenarioError at the position of the word concerned: the offending word itself, or, when a value
// is missing, the keyword that needed it. The `>` operator is never returned as an ordinary word, so only a
// parser that asks for it (`echo`) can accept a redirection.

import { ScenarioError } from '../errors.js';
import type { Pos } from '../types.js';
import type { CommandSource, Token } from './tokenize.js';
import { posAt } from './tokenize.js';

export class Args {
  private i = 0;

  constructor(
    readonly src: CommandSource,
    readonly tokens: readonly Token[],
  ) {}

  get done(): boolean {
    return this.i >= this.tokens.length;
  }

  /** The next word without consuming it. */
  peek(): Token | undefined {
    return this.tokens[this.i];
  }

  /** The word consumed last (the command's first word before anything is consumed). */
  get last(): Token {
    return this.tokens[Math.max(0, this.i - 1)]!;
  }

  /** Consumes the next word; a missing word is an error at `after` (or the last word) naming `what` was expected. */
  next(what: string, after: Token = this.last): Token {
    const t = this.tokens[this.i];
    if (t === undefined) this.fail(after, `missing ${what} after '${after.text}'`);
    if (t.op !== undefined) {
      this.fail(t, `unexpected '${t.text}': output redirection is only supported as 'echo VALUE > /proc/sys/…'`);
    }
    this.i++;
    return t;
  }

  /** Consumes the next token if it is the redirection operator. */
  nextRedirect(): Token | undefined {
    const t = this.tokens[this.i];
    if (t?.op === undefined) return undefined;
    this.i++;
    return t;
  }

  /** Puts back the word consumed last. */
  back(): void {
    if (this.i > 0) this.i--;
  }

  pos(t: Token): Pos {
    return posAt(this.src, t.offset);
  }

  error(t: Token, message: string): ScenarioError {
    return ScenarioError.at(this.pos(t), message);
  }

  fail(t: Token, message: string): never {
    throw this.error(t, message);
  }

  /** Error if any word is left. */
  end(context: string): void {
    const t = this.peek();
    if (t !== undefined) this.fail(t, `unexpected '${t.text}' after ${context}`);
  }
}
