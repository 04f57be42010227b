// Kernel parameter writes: procps-ng's `sysctl [-w] [-q] KEY=VALUE …` and the shell idiom
// `echo VALUE > /proc/sys/PATH`, both giving a `sysctl` command. Keys are kept in sysctl's dotted form; a key
// written as a path is converted as procps does it (its slashdot(): '/' and '.' swap, so the path
// net/ipv4/conf/eth0.100/rp_filter becomes net.ipv4.conf.eth0/100.rp_filter). Whether a key exists is for the
// kernel model to decide. Limits: no reads (`sysctl KEY`), no `-p FILE`, no `--system`.

import type { Sysctl, SysctlSetting } from '../types.js';
import type { Args } from './args.js';
import type { CommandContext } from './dispatch.js';
import type { Token } from './tokenize.js';

const PROC_SYS = '/proc/sys/';

/** procps slashdot(): when the first separator is '/', swap every '/' and '.'. */
export function normaliseSysctlKey(key: string): string {
  const first = key.search(/[./]/);
  if (first < 0 || key[first] === '.') return key;
  return key.replace(/[./]/g, (c) => (c === '/' ? '.' : '/'));
}

function checkKey(args: Args, tok: Token, key: string): void {
  if (key.length === 0) args.fail(tok, `missing sysctl key in '${tok.text}'`);
  if (/^[./]|[./]$|[./]{2}|\s/.test(key)) args.fail(tok, `invalid sysctl key '${key}'`);
}

export function parseSysctl(args: Args, ctx: CommandContext): Sysctl {
  let write = false;
  const settings: SysctlSetting[] = [];
  while (!args.done) {
    const tok = args.next('a setting');
    const t = tok.text;
    if (settings.length === 0 && t.startsWith('-') && t.length > 1) {
      if (t === '--write') write = true;
      else if (t === '--quiet') continue;
      else if (/^-[wq]+$/.test(t)) write ||= t.includes('w');
      else args.fail(tok, `unsupported option '${t}' for 'sysctl'; supported: -w, -q`);
      continue;
    }
    const eq = t.indexOf('=');
    if (eq < 0) {
      if (write) args.fail(tok, `'${t}' must be of the form KEY=VALUE`);
      args.fail(tok, `reading '${t}' is not supported; write a value with 'sysctl -w ${t}=VALUE'`);
    }
    const key = normaliseSysctlKey(t.slice(0, eq));
    checkKey(args, tok, key);
    const value = t.slice(eq + 1);
    if (value.length === 0) args.fail(tok, `missing value in '${t}'`);
    settings.push({ key, value, pos: args.pos(tok) });
  }
  if (settings.length === 0) args.fail(args.last, "missing KEY=VALUE after 'sysctl'");
  return { kind: 'sysctl', ns: ctx.ns, pos: ctx.pos, settings };
}

/** `echo [-n] VALUE… > /proc/sys/PATH`: the write a shell performs, as a sysctl. */
export function parseEcho(args: Args, ctx: CommandContext): Sysctl {
  const words: string[] = [];
  let redirect: Token | undefined;
  while (!args.done) {
    redirect = args.nextRedirect();
    if (redirect !== undefined) break;
    const tok = args.next('a word');
    if (words.length === 0 && tok.text === '-n') continue;
    words.push(tok.text);
  }
  if (redirect === undefined) {
    args.fail(ctx.name, "'echo' is only supported as 'echo VALUE > /proc/sys/…' (writing a kernel parameter)");
  }
  const path = args.next('a /proc/sys/ path', redirect);
  if (!path.text.startsWith(PROC_SYS)) args.fail(path, `'echo' can only write to ${PROC_SYS}…, not '${path.text}'`);
  const rel = path.text.slice(PROC_SYS.length);
  const key = rel.replace(/[./]/g, (c) => (c === '/' ? '.' : '/'));
  checkKey(args, path, key);
  if (words.length === 0) args.fail(ctx.name, "missing value after 'echo'");
  args.end(`'echo … > ${path.text}'`);
  return { kind: 'sysctl', ns: ctx.ns, pos: ctx.pos, settings: [{ key, value: words.join(' '), pos: args.pos(path) }] };
}
