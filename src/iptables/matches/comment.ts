// `-m comment --comment TEXT` (xt_comment): always matches; the text (at most 255 bytes, longer text is cut as
// iptables cuts it) is saved quoted when it holds anything but letters, digits, `-` and `_`, and listed as
// `/* TEXT */`.

import { failAt } from '../args.js';
import type { ExtParser, MatchModule, RuleEnv } from '../ext.js';
import { mustSpecify } from '../ext.js';
import type { Match } from '../types.js';
import { saveString } from '../values.js';

const MAX_BYTES = 255;

/** Cuts `s` to at most `max` UTF-8 bytes without splitting a character. */
export function truncateBytes(s: string, max: number): string {
  // A UTF-16 code unit is at most three UTF-8 bytes.
  if (s.length * 3 <= max) return s;
  const enc = new TextEncoder();
  if (enc.encode(s).length <= max) return s;
  let out = '';
  let n = 0;
  for (const ch of s) {
    const len = enc.encode(ch).length;
    if (n + len > max) break;
    out += ch;
    n += len;
  }
  return out;
}

export class CommentMatch implements Match {
  readonly name = 'comment';

  constructor(readonly comment: string) {}

  matches(): boolean {
    return true;
  }

  save(): string {
    return `-m comment --comment ${saveString(this.comment)}`;
  }

  print(): string {
    return `/* ${this.comment} */`;
  }
}

export const commentModule: MatchModule = {
  name: 'comment',
  options: [{ name: 'comment', args: 1 }],
  parser(_env: RuleEnv): ExtParser<Match> {
    let text: string | null = null;
    return {
      parse(_opt, _inv, values) {
        const v = values[0]!;
        // iptables-save would print the line break as is, and the rule could not be restored.
        if (/[\n\r]/.test(v.text)) failAt(v, 'comment: a comment cannot hold a line break');
        text = truncateBytes(v.text, MAX_BYTES);
      },
      finish(_e, at) {
        if (text === null) mustSpecify(at, 'comment', 'comment');
      },
      create() {
        return new CommentMatch(text ?? '');
      },
    };
  },
};
