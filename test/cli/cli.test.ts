// The command line: `main(argv, io)` in-process for every command, exit code and output contract, plus one test
// that spawns the built bin (dist/cli/main.js), rebuilding it first when it is missing or older than src/.
// Bad input must give exit 2 and one positioned error (`file:line:col: message`) with no stack trace.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SCENARIO, main } from '../../src/cli/main.js';
import { loadScenario } from '../../src/scenario/loader.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SCENARIOS = join(ROOT, 'scenarios');
const BUNDLED = readdirSync(SCENARIOS)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const DEMO = join(SCENARIOS, 'k8s-demo.yaml');
const PODS = join(SCENARIOS, 'pods-on-bridge.yaml');
const VETH = join(SCENARIOS, 'veth-pair.yaml');

interface Result {
  code: number;
  out: string;
  err: string;
}

async function cli(...argv: string[]): Promise<Result> {
  let out = '';
  let err = '';
  const code = await main(argv, {
    out: (s) => {
      out += s;
    },
    err: (s) => {
      err += s;
    },
  });
  return { code, out, err };
}

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'podwire-cli-'));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
}

/** A scenario whose setup items start on line 4, column 5 (`  - ` before each command). */
function withSetup(name: string, setup: string[]): string {
  return write(name, `name: bad\nseed: 1\nsetup:\n${setup.map((l) => `  - ${l}\n`).join('')}steps: []\n`);
}

const POSITIONED = /^(.+):(\d+):(\d+): (.+)$/;

/** Exit 2, nothing on stdout, exactly one `file:line:col: message` line, no stack frames, not an internal error. */
function expectPositioned(r: Result, file: string, line: number | number[], col: number, message: RegExp): void {
  expect(r.code, r.err).toBe(2);
  expect(r.out).toBe('');
  expect(r.err).not.toMatch(/^\s+at /m);
  expect(r.err).not.toMatch(/internal error/);
  const errors = r.err.split('\n').filter((l) => POSITIONED.test(l));
  expect(errors, r.err).toHaveLength(1);
  const [, f, l, c, msg] = POSITIONED.exec(errors[0]!)!;
  expect(f).toBe(file);
  expect([line].flat()).toContain(Number(l));
  expect(Number(c)).toBe(col);
  expect(msg).toMatch(message);
  // The first line is the error; a code frame of the offending line may follow.
  expect(r.err.split('\n')[0]).toBe(errors[0]);
}

/** Exit 2 for a usage problem: one `podwire: …` line naming it, the usage hint, no stack. */
function expectUsage(r: Result, message: RegExp): void {
  expect(r.code, r.err).toBe(2);
  expect(r.out).toBe('');
  expect(r.err).not.toMatch(/^\s+at /m);
  const lines = r.err.split('\n').filter((l) => l.length > 0);
  expect(lines[0]).toMatch(/^podwire: /);
  expect(lines[0]).toMatch(message);
  expect(lines.slice(1)).toEqual(["run 'podwire --help' for usage"]);
}

describe('podwire run', () => {
  it.each(BUNDLED)('runs the bundled %s and every expectation holds', async (name) => {
    const file = join(SCENARIOS, name);
    const steps = loadScenario(file).steps.length;
    const r = await cli('run', file);
    expect(r.code, r.out).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toMatch(new RegExp(`^podwire: .+ \\(${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, seed \\d+\\)\n`));
    expect(r.out.match(/^── step \d+: /gm)).toHaveLength(steps);
    expect(r.out).not.toMatch(/^✗/m);
    expect(r.out.endsWith(`\n${steps} passed, 0 failed\n`)).toBe(true);
  });

  it('runs the bundled default scenario when given none', async () => {
    expect(DEFAULT_SCENARIO).toBe(DEMO);
    const r = await cli('run', '--quiet');
    expect(r.code).toBe(0);
    expect(r.out.split('\n')[0]).toBe(`podwire: Kubernetes Services on a two-node flannel cluster (${DEMO}, seed 3)`);
    expect(r.out.endsWith(`\n${loadScenario(DEMO).steps.length} passed, 0 failed\n`)).toBe(true);
    // --quiet: step results only, no timeline lines.
    expect(r.out).not.toMatch(/^\d+\.\d{9} /m);
  });

  it('--seed overrides the scenario seed and changes the random values', async () => {
    const a = await cli('run', VETH, '--seed', '1');
    const b = await cli('run', VETH, '--seed', '2');
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    expect(b.out.split('\n')[0]).toMatch(/, seed 2\)$/);
    expect(a.out).not.toBe(b.out);
    expect((await cli('run', VETH, '--seed', '1')).out).toBe(a.out);
  });

  it('--format json emits one JSON object per line: a record per step and the trace events', async () => {
    const r = await cli('run', VETH, '--format', 'json');
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    expect(lines.pop()).toBe('');
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const steps = records.filter((x) => x.type === 'step');
    expect(steps.map((s) => [s.step, s.ok, s.failures])).toEqual([
      [0, true, []],
      [1, true, []],
      [2, true, []],
    ]);
    const events = records.filter((x) => x.type !== 'step');
    expect(events.length).toBeGreaterThan(20);
    for (const e of events) {
      expect(typeof e.t).toBe('number');
      expect(typeof e.ns).toBe('string');
    }
    const quiet = await cli('run', VETH, '--format', 'json', '--quiet');
    expect(quiet.out.trim().split('\n')).toHaveLength(3);
  });

  it('--out DIR writes the trace, diagrams and captures', async () => {
    const dir = join(tmp, 'out');
    const r = await cli('run', VETH, '--quiet', '--out', dir);
    expect(r.code).toBe(0);
    expect(r.err).toContain(join(dir, 'capture.pcapng'));
    expect(readdirSync(dir).sort()).toEqual([
      'capture.pcapng',
      'pcap',
      'step-1.svg',
      'step-2.svg',
      'step-3.svg',
      'topology.svg',
      'trace.jsonl',
      'trace.txt',
    ]);
    const text = readFileSync(join(dir, 'trace.txt'), 'utf8');
    expect(text).toMatch(/^0\.000000000 #0 \[a\] /);
    expect(text).toContain('ICMP echo reply');
    const jsonl = readFileSync(join(dir, 'trace.jsonl'), 'utf8').trim().split('\n');
    expect(jsonl.length).toBeGreaterThan(20);
    for (const l of jsonl) expect(() => JSON.parse(l)).not.toThrow();
    for (const svg of ['topology.svg', 'step-1.svg', 'step-2.svg', 'step-3.svg'])
      expect(readFileSync(join(dir, svg), 'utf8')).toMatch(/^(<\?xml[^>]*>\s*)?<svg[\s>][\s\S]*<\/svg>\s*$/);
    // pcapng Section Header Block.
    const ng = readFileSync(join(dir, 'capture.pcapng'));
    expect(ng.readUInt32LE(0)).toBe(0x0a0d0d0a);
    expect(ng.length).toBeGreaterThan(1000);
    // One nanosecond pcap per device that saw frames.
    expect(readdirSync(join(dir, 'pcap')).sort()).toEqual(['a_lo.pcap', 'a_veth-a.pcap', 'b_veth-b.pcap']);
    for (const f of readdirSync(join(dir, 'pcap'))) {
      const p = readFileSync(join(dir, 'pcap', f));
      expect(p.readUInt32LE(0)).toBe(0xa1b23c4d);
      expect(p.length).toBeGreaterThan(24 + 16);
    }
  });

  it('exits 1 and says what failed when an expectation does not hold', async () => {
    const setup = loadScenarioText(VETH).split('\nlisten:')[0]!;
    const file = write(
      'failing.yaml',
      `${setup.replace(/^name: .*$/m, 'name: failing')}
steps:
  - name: expected to fail
    ping: { from: a, to: 10.0.0.2 }
    expect: unreachable
  - ping: { from: a, to: 10.0.0.2 }
    expect: { result: reachable, replyTtl: 63, via: ["a:lo"] }
  - ping: { from: a, to: 10.0.0.2 }
    expect: reachable
`,
    );
    const r = await cli('run', file, '--quiet');
    expect(r.code).toBe(1);
    expect(r.out).toContain('── step 1: expected to fail\n');
    expect(r.out).toContain('✗ expected unreachable, got reachable\n');
    expect(r.out).toContain('✗ expected reply TTL 63, got 64\n');
    expect(r.out).toContain('✗ expected the packets to cross a:lo\n');
    expect(r.out.endsWith('\n1 passed, 2 failed\n')).toBe(true);
    const json = await cli('run', file, '--quiet', '--format', 'json');
    expect(json.code).toBe(1);
    const steps = json.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { ok: boolean; failures: string[] });
    expect(steps.map((s) => s.ok)).toEqual([false, false, true]);
    expect(steps[0]!.failures).toEqual(['expected unreachable, got reachable']);
  });
});

function loadScenarioText(path: string): string {
  return readFileSync(path, 'utf8');
}

describe('podwire validate', () => {
  it.each(BUNDLED)('accepts the bundled %s', async (name) => {
    const file = join(SCENARIOS, name);
    const sc = loadScenario(file);
    const r = await cli('validate', file);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toBe(
      `${file}: ok (${sc.setup.length} commands, ${sc.listen.length} listeners, ${sc.steps.length} steps)\n`,
    );
  });

  it('refuses a step from a namespace the setup never creates, at the step', async () => {
    const file = write(
      'step-ns.yaml',
      'name: x\nseed: 1\nsetup:\n  - ip netns add a\nsteps:\n  - ping: { from: b, to: 10.0.0.1 }\n    expect: reachable\n',
    );
    expectPositioned(await cli('validate', file), file, 6, 5, /^unknown namespace 'b'$/);
    expectPositioned(await cli('run', file), file, 6, 5, /^unknown namespace 'b'$/);
  });
});

describe('podwire show', () => {
  const show = (...a: string[]) => cli('show', PODS, ...a);

  it('links: `ip -br link` of a namespace', async () => {
    const r = await show('root', 'links');
    expect(r.code).toBe(0);
    const rows = r.out.split('\n').filter(Boolean);
    expect(rows.map((l) => l.split(/\s+/).slice(0, 2))).toEqual([
      ['lo', 'UNKNOWN'],
      ['cni0', 'UP'],
      ['veth-a@if2', 'UP'],
      ['veth-b@if2', 'UP'],
    ]);
    expect(rows[0]).toBe('lo               UNKNOWN        00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP> ');
    for (const l of rows.slice(1))
      expect(l).toMatch(/^\S+ +UP +[0-9a-f]{2}(:[0-9a-f]{2}){5} <BROADCAST,MULTICAST,UP,LOWER_UP> $/);
    // The bridge takes the smallest MAC of its ports.
    const macs = rows.slice(1).map((l) => l.split(/\s+/)[2]!);
    expect(macs[0]).toBe([macs[1]!, macs[2]!].sort()[0]);
    expect((await show('pod-a', 'links')).out).toMatch(/^eth0@if3 +UP /m);
  });

  it('addr: `ip -br addr`', async () => {
    expect((await show('pod-a', 'addr')).out).toBe(
      'lo               UNKNOWN        127.0.0.1/8 \neth0@if3         UP             10.244.1.2/24 \n',
    );
    expect((await show('root', 'addr')).out).toMatch(/^cni0 +UP +10\.244\.1\.1\/24 \n/m);
  });

  it('routes: main by default, --table local|all|N', async () => {
    expect((await show('pod-a', 'routes')).out).toBe(
      'default via 10.244.1.1 dev eth0 \n10.244.1.0/24 dev eth0 proto kernel scope link src 10.244.1.2 \n',
    );
    expect((await show('root', 'routes', '--table', 'main')).out).toBe(
      '10.244.1.0/24 dev cni0 proto kernel scope link src 10.244.1.1 \n',
    );
    const local = (await show('root', 'routes', '--table', 'local')).out;
    expect(local.split('\n')[0]).toBe('local 10.244.1.1 dev cni0 proto kernel scope host src 10.244.1.1 ');
    expect(local).toContain('broadcast 10.244.1.255 dev cni0 proto kernel scope link src 10.244.1.1 \n');
    const all = (await show('root', 'routes', '--table', 'all')).out;
    expect(all).toContain('local 10.244.1.1 dev cni0 table local proto kernel scope host src 10.244.1.1 \n');
    expect(all.startsWith('10.244.1.0/24 dev cni0 proto kernel scope link src 10.244.1.1 \n')).toBe(true);
    expect((await show('root', 'routes', '--table', '100')).out).toBe('');
  });

  it('neigh: empty after setup, filled by --after-steps', async () => {
    expect((await show('pod-a', 'neigh')).out).toBe('');
    const r = await show('pod-a', 'neigh', '--after-steps');
    const podB = (await show('pod-b', 'links')).out.match(/^eth0@if4 +UP +(\S+)/m)![1]!;
    const lines = r.out.split('\n').filter(Boolean);
    expect(lines).toContain(`10.244.1.3 dev eth0 lladdr ${podB} REACHABLE `);
    expect(lines.some((l) => l.startsWith('10.244.1.1 dev eth0 lladdr '))).toBe(true);
  });

  it('fdb: `bridge fdb show`, learnt entries only after traffic', async () => {
    const before = (await show('root', 'fdb')).out;
    expect(before).toContain('01:00:5e:00:00:6a dev cni0 self permanent\n');
    expect(before).toMatch(/^\S+ dev veth-a master cni0 permanent$/m);
    expect(before).not.toMatch(/master cni0 $/m);
    const after = (await show('root', 'fdb', '--after-steps')).out;
    const podA = (await show('pod-a', 'links')).out.match(/^eth0@if3 +UP +(\S+)/m)![1]!;
    expect(after).toContain(`${podA} dev veth-a master cni0 \n`);
  });

  it('refuses an unknown namespace, table or view with exit 2', async () => {
    expectUsage(await show('nope', 'links'), /no namespace 'nope'.*have: root, pod-a, pod-b/);
    expectUsage(await show('root', 'routes', '--table', 'xyz'), /invalid table 'xyz'/);
    expectUsage(
      await show('root', 'bogus'),
      /^podwire: Invalid values: Argument: what, Given: "bogus", Choices: "links", /,
    );
  });
});

describe('bad input: exit 2, one error at file:line:col, no stack trace', () => {
  // Each scenario is checked with both commands that load a file.
  const both = async (file: string, line: number | number[], col: number, message: RegExp) => {
    for (const cmd of ['validate', 'run']) expectPositioned(await cli(cmd, file), file, line, col, message);
  };

  it('malformed YAML', async () => {
    const file = write('malformed.yaml', 'name: x\nseed: 1\nsetup: [ ip netns add a\nsteps: []\n');
    // The unclosed flow sequence opens on line 3; the parser notices it where the next key starts.
    await both(file, [3, 4], 1, /Flow sequence/);
  });

  it('unknown top-level key', async () => {
    const file = write('unknown-key.yaml', 'name: x\nseed: 1\nbogus: 3\nsetup:\n  - ip netns add a\nsteps: []\n');
    await both(file, 3, 1, /unknown field 'bogus'; expected one of: name, /);
  });

  it('unknown command (`ip foo`)', async () => {
    const file = withSetup('ip-foo.yaml', ['ip netns add a', 'ip foo']);
    await both(file, 5, 8, /unknown object 'foo' for 'ip'/);
  });

  it('unknown subcommand in a command (`ip link frob`)', async () => {
    const file = withSetup('ip-link-frob.yaml', ['ip netns add a', 'ip link frob x']);
    await both(file, 5, 13, /unknown command 'frob' for 'ip link'/);
  });

  it('unknown option in a command', async () => {
    const file = withSetup('bogus-opt.yaml', ['ip netns add a', 'ip link add x type veth peer name y bogus 1']);
    await both(file, 5, 41, /unknown option 'bogus' for 'ip link add … type veth peer'/);
  });

  it('invalid CIDR', async () => {
    const file = withSetup('cidr.yaml', ['ip netns add a', 'ip addr add 10.0.0.300/24 dev lo']);
    await both(file, 5, 17, /invalid address '10\.0\.0\.300\/24'/);
  });

  it('veth into a missing namespace', async () => {
    const file = withSetup('missing-ns.yaml', [
      'ip netns add a',
      'ip link add veth-a type veth peer name b netns nope',
    ]);
    await both(file, 5, 5, /^Cannot open network namespace "nope": No such file or directory$/);
    // With the device named `a`, iproute2 reads `a` as an abbreviation of `address` and refuses the next word
    // as a MAC (`"type" is invalid lladdr.`); the emulator parses it the same way.
    const abbrev = withSetup('missing-ns-a.yaml', ['ip netns add a', 'ip link add a type veth peer name b netns nope']);
    await both(abbrev, 5, 19, /invalid MAC address 'type'/);
  });

  it('duplicate names: a namespace added twice, two devices with one name', async () => {
    const ns = withSetup('dup-ns.yaml', ['ip netns add a', 'ip netns add a']);
    await both(ns, 5, 5, /^Cannot create namespace file "\/run\/netns\/a": File exists$/);
    const veth = withSetup('dup-veth.yaml', [
      'ip link add v0 type veth peer name v1',
      'ip link add v0 type veth peer name v2',
    ]);
    await both(veth, 5, 5, /^RTNETLINK answers: File exists$/);
    const peer = withSetup('dup-peer.yaml', ['ip link add br0 type bridge', 'ip link add v0 type veth peer name br0']);
    await both(peer, 5, 5, /^RTNETLINK answers: File exists$/);
  });

  it('missing file: one error naming the file', async () => {
    const file = join(tmp, 'no-such.yaml');
    for (const cmd of ['validate', 'run']) {
      const r = await cli(cmd, file);
      expect(r.code).toBe(2);
      expect(r.out).toBe('');
      expect(r.err).toMatch(
        new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot read scenario file: ENOENT`),
      );
      expect(r.err.trim().split('\n')).toHaveLength(1);
    }
  });

  it('unknown CLI option, unknown command, missing command or argument', async () => {
    expectUsage(await cli('run', '--bogus'), /^podwire: Unknown argument: bogus$/);
    expectUsage(await cli('frobnicate'), /^podwire: unknown command 'frobnicate'; expected one of: run, validate/);
    expectUsage(await cli(), /give a command/);
    expectUsage(await cli('validate'), /Not enough non-option arguments/);
    expectUsage(
      await cli('run', VETH, '--format', 'xml'),
      /^podwire: Invalid values: Argument: format, Given: "xml", Choices: "text", "json"$/,
    );
  });

  it('a --seed that is not a u32', async () => {
    for (const seed of ['abc', '-1', '1.5', '4294967296'])
      expectUsage(await cli('run', VETH, '--seed', seed), /--seed must be an integer from 0 to 4294967295/);
  });

  it('an --out directory that cannot be created', async () => {
    const file = write('a-file', 'not a directory');
    expectUsage(await cli('run', VETH, '--out', join(file, 'out')), /^podwire: cannot write to --out .*ENOTDIR/);
  });
});

describe('the installed bin', () => {
  const bin = join(ROOT, 'dist/cli/main.js');

  function newestSource(dir: string): number {
    let newest = 0;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      newest = Math.max(newest, e.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
    }
    return newest;
  }

  function builtAt(): number {
    try {
      return statSync(bin).mtimeMs;
    } catch {
      return 0;
    }
  }

  beforeAll(() => {
    if (builtAt() >= newestSource(join(ROOT, 'src'))) return;
    try {
      // --noCheck: the same JavaScript in a third of the time; type checking is `tsc --noEmit`'s job, not this test's.
      const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
      execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--noCheck'], {
        cwd: ROOT,
        stdio: 'pipe',
        timeout: 120_000,
      });
    } catch (e) {
      // tsc still emits when a file elsewhere has type errors; only a missing bin is fatal here.
      if (builtAt() === 0) throw e;
    }
  }, 180_000);

  it('`node dist/cli/main.js` runs, and its exit code is the contract', () => {
    mkdirSync(join(tmp, 'bin'), { recursive: true });
    const ok = spawnSync(process.execPath, [bin, 'run', '--quiet'], { cwd: join(tmp, 'bin'), encoding: 'utf8' });
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout.endsWith(`\n${loadScenario(DEMO).steps.length} passed, 0 failed\n`)).toBe(true);
    const bad = withSetup('bin-bad.yaml', ['ip netns add a', 'ip foo']);
    const r = spawnSync(process.execPath, [bin, 'validate', bad], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n')[0]).toMatch(/:5:8: unknown object 'foo' for 'ip'; expected one of: /);
    expect(r.stderr.startsWith(`${bad}:5:8: `)).toBe(true);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    expect(resolve(ROOT, pkg.bin.podwire!)).toBe(bin);
  });
});
