// Splits command text into words the way a POSIX shell does for the parts a pasted tutorial command needs:
// whitespace separates words, single quotes keep everything literal, double quotes keep everything but `\"`,
// `\\`, `\$`, `` \` `` and backslash-newline, a backslash outside quotes escapes the next character, a
// backslash-newline continues the line, a newline ends a command and `#` at the start of a word begins a comment.
// The only redirection is `>` (for `echo VALUE > /proc/sys/…`). Everything that would make a shell run other
// programs or expand text — pipes, `;`, `&`, `&&`, `||`, `<`, subshells, `$VAR`, `$(…)`, backticks — is an error
// at its position: the emulator runs one command per line and has no shell variables. Globs and `~` stay literal.

import { ScenarioError } from '../errors.js';
import type { Pos } from '../types.js';

export interface Token {
  /** The word after quote removal. */
  text: string;
  /** Offset in the source text of the word's first character (an opening quote counts). */
  offset: number;
  /** Offset just past the word. */
  end: number;
  /** Set for the output redirection operator; `text` is then `>`. */
  op?: '>';
}

/** Command text plus a way to turn offsets into file positions (the text may sit inside a YAML scalar). */
export interface CommandSource {
  file: string;
  text: string;
  locate(offset: number): { line: number; col: number };
}

export interface CommandLine {
  tokens: Token[];
  /** Offset of the first word. */
  offset: number;
}

export function posAt(src: CommandSource, offset: number): Pos {
  const { line, col } = src.locate(offset);
  return { file: src.file, line, col };
}

/** Locator for text that starts at `line`:`col` of a file and whose line breaks are the file's. */
export function lineLocator(text: string, line = 1, col = 1): (offset: number) => { line: number; col: number } {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: line + lo, col: (lo === 0 ? col : 1) + offset - starts[lo]! };
  };
}

/** A source for a standalone command string (tests, CLI arguments). */
export function textSource(text: string, file = '<command>', line = 1, col = 1): CommandSource {
  return { file, text, locate: lineLocator(text, line, col) };
}

const DOUBLE_QUOTE_ESCAPABLE = new Set(['$', '`', '"', '\\']);

export function tokenize(src: CommandSource): CommandLine[] {
  const t = src.text;
  const n = t.length;
  const fail = (offset: number, message: string): never => {
    throw ScenarioError.at(posAt(src, offset), message);
  };
  const lines: CommandLine[] = [];
  let tokens: Token[] = [];
  let buf = '';
  let inWord = false;
  let wordStart = 0;
  let wordRaw = true; // only unquoted, unescaped characters so far (for `2>` detection)

  const endWord = (at: number): void => {
    if (!inWord) return;
    tokens.push({ text: buf, offset: wordStart, end: at });
    buf = '';
    inWord = false;
  };
  const startWord = (at: number): void => {
    if (inWord) return;
    inWord = true;
    wordStart = at;
    wordRaw = true;
  };
  const endLine = (): void => {
    if (tokens.length > 0) lines.push({ tokens, offset: tokens[0]!.offset });
    tokens = [];
  };

  let i = 0;
  while (i < n) {
    const c = t[i]!;
    if (c === ' ' || c === '\t' || c === '\r') {
      endWord(i);
      i++;
      continue;
    }
    if (c === '\n') {
      endWord(i);
      endLine();
      i++;
      continue;
    }
    if (c === '#' && !inWord) {
      while (i < n && t[i] !== '\n') i++;
      continue;
    }
    if (c === '\\') {
      const next = t[i + 1];
      if (next === '\n') {
        i += 2;
        continue;
      }
      if (next === '\r' && t[i + 2] === '\n') {
        i += 3;
        continue;
      }
      startWord(i);
      wordRaw = false;
      if (next === undefined) {
        buf += '\\';
        i++;
      } else {
        buf += next;
        i += 2;
      }
      continue;
    }
    if (c === "'") {
      startWord(i);
      wordRaw = false;
      const close = t.indexOf("'", i + 1);
      if (close < 0) fail(i, 'unterminated single quote');
      buf += t.slice(i + 1, close);
      i = close + 1;
      continue;
    }
    if (c === '"') {
      startWord(i);
      wordRaw = false;
      const open = i;
      i++;
      for (;;) {
        if (i >= n) fail(open, 'unterminated double quote');
        const d = t[i]!;
        if (d === '"') {
          i++;
          break;
        }
        if (d === '\\') {
          const e = t[i + 1];
          if (e === '\n') {
            i += 2;
            continue;
          }
          if (e !== undefined && DOUBLE_QUOTE_ESCAPABLE.has(e)) {
            buf += e;
            i += 2;
            continue;
          }
          buf += '\\';
          i++;
          continue;
        }
        if (d === '$' && isExpansionStart(t[i + 1])) failExpansion(i, t[i + 1], fail);
        if (d === '`') fail(i, 'command substitution (backticks) is not supported');
        buf += d;
        i++;
      }
      continue;
    }
    if (c === '>') {
      if (inWord && wordRaw && /^[0-9]+$/.test(buf)) {
        fail(wordStart, `redirection of file descriptor ${buf} is not supported`);
      }
      endWord(i);
      if (t[i + 1] === '>') fail(i, "append redirection '>>' is not supported; use 'echo VALUE > /proc/sys/…'");
      if (t[i + 1] === '&' || t[i + 1] === '|') fail(i, `redirection '>${t[i + 1]}' is not supported`);
      tokens.push({ text: '>', offset: i, end: i + 1, op: '>' });
      i++;
      continue;
    }
    switch (c) {
      case '|':
        fail(
          i,
          t[i + 1] === '|'
            ? "'||' is not supported: put one command per line"
            : "pipes ('|') are not supported: put one command per line (for '… | tee /proc/sys/…' use 'sysctl -w KEY=VALUE')",
        );
        break;
      case ';':
        fail(i, "';' is not supported: put one command per line");
        break;
      case '&':
        fail(
          i,
          t[i + 1] === '&'
            ? "'&&' is not supported: put one command per line"
            : "background jobs ('&') are not supported",
        );
        break;
      case '<':
        fail(i, "input redirection ('<') is not supported");
        break;
      case '(':
      case ')':
        fail(i, `subshells ('${c}') are not supported`);
        break;
      case '`':
        fail(i, 'command substitution (backticks) is not supported');
        break;
      case '$':
        if (isExpansionStart(t[i + 1])) failExpansion(i, t[i + 1], fail);
        break;
    }
    startWord(i);
    buf += c;
    i++;
  }
  endWord(n);
  endLine();
  return lines;
}

function isExpansionStart(next: string | undefined): boolean {
  return next !== undefined && /[A-Za-z0-9_{(@*#?$!-]/.test(next);
}

function failExpansion(at: number, next: string | undefined, fail: (offset: number, message: string) => never): never {
  if (next === '(') fail(at, "command substitution ('$(') is not supported");
  return fail(at, "shell variables ('$') are not supported: write the value itself");
}
