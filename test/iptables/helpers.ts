// Test helpers: shell-style word splitting for fixture command lines, and running iptables command lines against a
// NetfilterState the way the real tool runs them.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { argsOf } from '../../src/iptables/args.js';
import { applyIptablesCommand, parseIptablesArgs } from '../../src/iptables/command.js';
import type { NetfilterState } from '../../src/iptables/state.js';

export const FIXTURES = new URL('../fixtures/iptables/', import.meta.url);

export function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as T;
}

export function fixtureText(name: string): string {
  return readFileSync(new URL(name, FIXTURES), 'utf8');
}

/** The `-A CHAIN REST` lines of a document. */
function appendLines(doc: string): { chain: string; rest: string }[] {
  const out: { chain: string; rest: string }[] = [];
  for (const line of doc.split('\n')) {
    const m = /^-A (\S+) (.*)$/.exec(line);
    if (m) out.push({ chain: m[1]!, rest: m[2]! });
  }
  return out;
}

/** Every rule line of the kube-proxy fixtures and of the upstream golden payloads. */
export function kubeProxyRuleLines(): { chain: string; rest: string }[] {
  const goldenDir = join(import.meta.dirname, '..', 'proxy', 'golden');
  return [
    fixtureText('kube-proxy-save.txt'),
    fixtureText('kube-proxy-restore.txt'),
    ...readdirSync(goldenDir)
      .filter((f) => f.endsWith('.txt'))
      .map((f) => readFileSync(join(goldenDir, f), 'utf8')),
  ].flatMap(appendLines);
}

/** POSIX shell word splitting for the quoting the fixtures use (single, double quotes, backslash). */
export function shellWords(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === ' ' || c === '\t') {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      cur += line.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      i++;
      while (line[i] !== '"') {
        if (line[i] === '\\' && '"\\$`'.includes(line[i + 1]!)) i++;
        cur += line[i];
        i++;
      }
    } else if (c === '\\') {
      cur += line[++i];
    } else cur += c;
  }
  if (inWord) out.push(cur);
  return out;
}

/** Runs `iptables ARGS` (ARGS shell-quoted) and returns its output. */
export function ipt(state: NetfilterState, line: string): string {
  return applyIptablesCommand(state, parseIptablesArgs(argsOf(shellWords(line))));
}
