import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { textSource, tokenize } from '../../src/scenario/commands/tokenize.js';
import { ScenarioError } from '../../src/scenario/errors.js';

function words(text: string): string[][] {
  return tokenize(textSource(text)).map((l) => l.tokens.map((t) => t.text));
}

describe('tokenize', () => {
  it('splits on blanks and newlines, drops comments and empty lines', () => {
    expect(words('ip  link\tset eth0 up # comment\n\n  # only a comment\nip netns add a')).toEqual([
      ['ip', 'link', 'set', 'eth0', 'up'],
      ['ip', 'netns', 'add', 'a'],
    ]);
  });

  it('applies quotes and backslashes like sh', () => {
    expect(words(`a 'b c' "d \\"e\\" \\$f \\x" g\\ h i\\\\j "" '' k#l`)).toEqual([
      ['a', 'b c', 'd "e" $f \\x', 'g h', 'i\\j', '', '', 'k#l'],
    ]);
  });

  it('joins continued lines and keeps quoted newlines', () => {
    expect(words('a \\\n  b\nc "d\ne"')).toEqual([
      ['a', 'b'],
      ['c', 'd\ne'],
    ]);
  });

  it('records where each word starts, opening quote included', () => {
    const [line] = tokenize(textSource(`ip  'link' "set"`));
    expect(line!.tokens.map((t) => [t.offset, t.end])).toEqual([
      [0, 2],
      [4, 10],
      [11, 16],
    ]);
  });

  it('marks > as an operator only when unquoted', () => {
    const [line] = tokenize(textSource(`echo ">" 1>x`.replace('1>x', '1 >x')));
    expect(line!.tokens.map((t) => [t.text, t.op ?? null])).toEqual([
      ['echo', null],
      ['>', null],
      ['1', null],
      ['>', '>'],
      ['x', null],
    ]);
  });

  it('maps offsets to lines and columns of the enclosing file', () => {
    const src = textSource('ab\ncd', 'f', 10, 7);
    expect([src.locate(0), src.locate(1), src.locate(3), src.locate(4)]).toEqual([
      { line: 10, col: 7 },
      { line: 10, col: 8 },
      { line: 11, col: 1 },
      { line: 11, col: 2 },
    ]);
  });
});

// Reference: the words a POSIX shell makes of the same text (printf prints one per NUL).
function shellWords(text: string): string[] | null {
  const r = spawnSync('sh', ['-c', `set -f\nprintf '%s\\0' ${text}`], { encoding: 'utf8', timeout: 5000 });
  if (r.status !== 0 || r.error) return null;
  return r.stdout.split('\0').slice(0, -1);
}

const haveSh = spawnSync('sh', ['-c', 'true']).status === 0;

describe.skipIf(!haveSh)('agrees with sh on quoting', () => {
  const piece = fc.constantFrom(
    'a',
    'b',
    'x1',
    ' ',
    '  ',
    '\t',
    "'",
    '"',
    '\\',
    '\\\\',
    '\\"',
    "\\'",
    ' \\\n ',
    '#',
    '=',
    '-',
    '.',
    '/',
    ':',
  );
  it('splits random quote/backslash mixtures into the same words', () => {
    fc.assert(
      fc.property(fc.array(piece, { minLength: 1, maxLength: 14 }), (pieces) => {
        const text = `w ${pieces.join('')}`;
        let ours: string[] | null;
        try {
          const lines = words(text);
          // A second line would be a second command to sh; compare single commands only.
          fc.pre(lines.length === 1);
          ours = lines[0]!;
        } catch (e) {
          if (!(e instanceof ScenarioError)) throw e;
          ours = null;
        }
        const theirs = shellWords(text);
        if (theirs === null) {
          expect(ours).toBeNull();
          return;
        }
        // printf with no words still prints one empty word.
        expect(ours).toEqual(theirs[0] === 'w' ? theirs : ['w', ...theirs]);
      }),
      { numRuns: 150, seed: 7 },
    );
  });
});
