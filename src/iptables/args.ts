// The words of one iptables command line, each with its place in the source, and a cursor over them that follows
// getopt_long's rules as iptables uses them: `--opt=value`, clustered short options (`-nvL`, `-tnat`), optional
// arguments taken from the next word when it does not start with `-` or `!` (`-I CHAIN 2`, `-L CHAIN`), and `!`
// as a word of its own. Long options may be abbreviated to any unambiguous prefix, as getopt allows.

import { IptablesError } from './errors.js';
import type { SrcPos } from './types.js';

/** One word after quote removal. */
export interface Arg {
  text: string;
  pos?: SrcPos;
}

/** Words without positions (tests, programmatic use). */
export function argsOf(words: readonly string[]): Arg[] {
  return words.map((text) => ({ text }));
}

/** Throws an IptablesError at `at` (or without a position). */
export function failAt(at: Arg | undefined, message: string): never {
  throw new IptablesError(message, at?.pos);
}

/** The position `n` characters into a word (for words split at `=` or inside a cluster). */
export function shifted(a: Arg, n: number, text: string): Arg {
  return a.pos ? { text, pos: { ...a.pos, col: a.pos.col + n } } : { text };
}

export class ArgCursor {
  private i = 0;
  /** Words split off the current one (`-nvL` → `-v`, `-L`), consumed before the next real word. */
  private pending: Arg[] = [];

  constructor(readonly words: readonly Arg[]) {}

  get done(): boolean {
    return this.pending.length === 0 && this.i >= this.words.length;
  }

  peek(): Arg | undefined {
    return this.pending[0] ?? this.words[this.i];
  }

  next(): Arg | undefined {
    if (this.pending.length > 0) return this.pending.shift();
    return this.words[this.i++];
  }

  /** Pushes words to be returned before the next word of the line. */
  unshift(...a: Arg[]): void {
    this.pending.unshift(...a);
  }

  /** The last word, for errors about something missing at the end. */
  get last(): Arg | undefined {
    return this.words[this.words.length - 1];
  }

  /** A required value after `opt`: the next word, whatever it looks like (getopt's required_argument). */
  value(opt: Arg, name: string): Arg {
    const v = this.next();
    if (v === undefined) failAt(opt, `option "${name}" requires an argument`);
    return v;
  }

  /** An optional value: the next word if it does not look like an option or `!` (iptables' xs_has_arg). */
  optional(): Arg | undefined {
    const v = this.peek();
    if (v === undefined || v.text.startsWith('-') || v.text === '!') return undefined;
    return this.next();
  }
}
