// Splits a scenario command line into words the way a POSIX shell would for a simple command: blanks separate
// words, single quotes are literal, double quotes allow \" \\ \$ \` escapes, a backslash outside quotes escapes
// the next character, `#` at the start of a word begins a comment. The lab runs commands with execFile, never
// through a shell, so anything that needs a shell's evaluation (pipes, lists, substitutions, variables) is refused
// here with a clear error instead of being passed on literally. Glob characters pass literally, as a shell passes
// them when nothing matches. The only operator kept is output redirection (`>`), because `echo 1 > /proc/sys/…`
// is how tutorials set sysctls.

export interface Word {
  text: string;
  /** An unquoted shell operator (`>` or `>>`), not an argument. */
  op?: boolean;
}

export class ShellSyntaxError extends Error {}

const BLANK = /[ \t\n]/;
const UNSUPPORTED_OPS = new Set(['|', ';', '&', '<', '(', ')', '`']);

export function splitWords(line: string): Word[] {
  const words: Word[] = [];
  let cur = '';
  let inWord = false;
  let i = 0;
  const fail = (what: string): never => {
    throw new ShellSyntaxError(
      `${what} at column ${i + 1} of \`${line}\` is not supported (commands run without a shell)`,
    );
  };
  const flush = () => {
    if (inWord) words.push({ text: cur });
    cur = '';
    inWord = false;
  };
  while (i < line.length) {
    const c = line[i]!;
    if (BLANK.test(c)) {
      flush();
      i++;
      continue;
    }
    if (c === '#' && !inWord) break;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) fail('an unterminated single quote');
      cur += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
      continue;
    }
    if (c === '"') {
      inWord = true;
      i++;
      for (;;) {
        if (i >= line.length) fail('an unterminated double quote');
        const d = line[i]!;
        if (d === '"') break;
        if (d === '\\' && i + 1 < line.length && '"\\$`\n'.includes(line[i + 1]!)) {
          cur += line[i + 1];
          i += 2;
          continue;
        }
        if (d === '$' || d === '`') fail(`expansion \`${d}\` inside double quotes`);
        cur += d;
        i++;
      }
      i++;
      continue;
    }
    if (c === '\\') {
      if (i + 1 >= line.length) fail('a trailing backslash');
      cur += line[i + 1];
      inWord = true;
      i += 2;
      continue;
    }
    if (c === '>') {
      flush();
      if (line[i + 1] === '>') {
        words.push({ text: '>>', op: true });
        i += 2;
      } else {
        words.push({ text: '>', op: true });
        i++;
      }
      continue;
    }
    if (UNSUPPORTED_OPS.has(c)) fail(`the shell operator \`${c}\``);
    if (c === '$') fail('the expansion `$`');
    cur += c;
    inWord = true;
    i++;
  }
  flush();
  return words;
}
