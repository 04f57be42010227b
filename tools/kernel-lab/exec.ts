// Runs real programs for the lab without a shell (argv straight to execve), each bounded in time and tied to the
// run's AbortSignal, so that a hung `ip` or client can never outlive the run. Output is collected as text and
// capped, so a runaway program cannot exhaust memory.

import { spawn } from 'node:child_process';

export interface RunOptions {
  signal?: AbortSignal;
  /** Kill the program (SIGKILL) after this long. */
  timeoutMs: number;
  /** Written to the program's stdin, which is then closed (CNI plugins read their configuration there). */
  input?: string;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  /** Exit status; null when the program was killed or could not be started. */
  code: number | null;
  /** Why it did not exit by itself, if it did not. */
  killed?: 'timeout' | 'aborted';
  /** Set when the program could not be started at all (ENOENT …). */
  spawnError?: string;
}

const OUTPUT_CAP = 4 * 1024 * 1024;

export function quoteArgv(argv: readonly string[]): string {
  return argv.map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

export function run(file: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  return new Promise((resolve) => {
    if (opts.signal?.aborted) {
      resolve({ stdout: '', stderr: '', code: null, killed: 'aborted' });
      return;
    }
    // stdin is a pipe closed at once (EOF, as /dev/null would give) unless there is input to write first.
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    // A program that exits without reading all of its input must not crash the run with EPIPE.
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
    let stdout = '';
    let stderr = '';
    let killed: RunResult['killed'];
    let spawnError: string | undefined;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < OUTPUT_CAP) stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < OUTPUT_CAP) stderr += d;
    });
    const kill = (why: 'timeout' | 'aborted') => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      killed = why;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => kill('timeout'), opts.timeoutMs);
    const onAbort = () => kill('aborted');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => {
      spawnError = e.message;
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      const r: RunResult = { stdout, stderr, code: killed || spawnError ? null : code };
      if (killed) r.killed = killed;
      if (spawnError) r.spawnError = spawnError;
      resolve(r);
    });
  });
}

export class LabCommandError extends Error {}

/** Runs a command that must succeed; the error names the command as written and as run. */
export async function runOk(
  file: string,
  args: readonly string[],
  opts: RunOptions & { what?: string },
): Promise<RunResult> {
  const r = await run(file, args, opts);
  if (r.code === 0) return r;
  const ran = quoteArgv([file, ...args]);
  const shown = opts.what && opts.what !== ran ? `\`${opts.what}\` (ran: ${ran})` : `\`${ran}\``;
  const why = r.spawnError
    ? `could not start: ${r.spawnError}`
    : r.killed === 'timeout'
      ? `killed after ${opts.timeoutMs} ms`
      : r.killed === 'aborted'
        ? 'aborted (run timed out)'
        : `exit ${r.code}`;
  const err = (r.stderr || r.stdout).trim();
  throw new LabCommandError(`kernel-lab: command ${shown} failed in Linux: ${why}${err ? `: ${err}` : ''}`);
}
