import { describe, expect, it } from 'vitest';
import { type Arg, argsOf } from '../../src/iptables/args.js';
import { parseIptablesArgs } from '../../src/iptables/command.js';
import { IptablesError } from '../../src/iptables/errors.js';
import { formatSave } from '../../src/iptables/save.js';
import { NetfilterState } from '../../src/iptables/state.js';
import { ipt, shellWords } from './helpers.js';

const save = (s: NetfilterState, table: 'filter' | 'nat' | 'mangle' | 'raw' = 'filter'): string[] =>
  formatSave(s, { table, date: null })
    .split('\n')
    .filter((l) => l.startsWith('-A ') || l.startsWith(':'));

const rules = (s: NetfilterState, table: 'filter' | 'nat' | 'mangle' | 'raw' = 'filter'): string[] =>
  save(s, table).filter((l) => l.startsWith('-A '));

function refusal(s: NetfilterState, line: string): string {
  try {
    ipt(s, line);
  } catch (e) {
    if (e instanceof IptablesError) return e.message;
    throw e;
  }
  throw new Error(`accepted: ${line}`);
}

/** Words with positions as a one-line file would give them. */
function located(line: string): Arg[] {
  const out: Arg[] = [];
  const re = /\S+/g;
  for (let m = re.exec(line); m !== null; m = re.exec(line)) {
    out.push({ text: m[0], pos: { file: 'cmd', line: 1, col: m.index + 1 } });
  }
  return out;
}

function errorAt(line: string): string {
  try {
    parseIptablesArgs(located(line));
  } catch (e) {
    if (e instanceof IptablesError) return e.toString();
    throw e;
  }
  throw new Error('accepted');
}

describe('rule commands', () => {
  it('appends, inserts at a position (default 1), replaces, deletes by number and by spec', () => {
    const s = new NetfilterState();
    ipt(s, '-A INPUT -s 1.1.1.1 -j ACCEPT');
    ipt(s, '-A INPUT -s 2.2.2.2 -j ACCEPT');
    ipt(s, '-I INPUT -s 3.3.3.3 -j DROP');
    ipt(s, '-I INPUT 3 -s 4.4.4.4 -j DROP');
    expect(rules(s)).toEqual([
      '-A INPUT -s 3.3.3.3/32 -j DROP',
      '-A INPUT -s 1.1.1.1/32 -j ACCEPT',
      '-A INPUT -s 4.4.4.4/32 -j DROP',
      '-A INPUT -s 2.2.2.2/32 -j ACCEPT',
    ]);
    ipt(s, '-I INPUT 5 -s 5.5.5.5 -j DROP');
    expect(refusal(s, '-I INPUT 7 -j DROP')).toBe('iptables: Index of insertion too big.');
    ipt(s, '-R INPUT 1 -s 9.9.9.9 -j ACCEPT');
    expect(refusal(s, '-R INPUT 6 -j ACCEPT')).toBe('iptables: Index of replacement too big.');
    ipt(s, '-D INPUT 2');
    ipt(s, '-D INPUT -s 4.4.4.4/32 -j DROP');
    expect(refusal(s, '-D INPUT -s 4.4.4.4 -j DROP')).toBe(
      'iptables: Bad rule (does a matching rule exist in that chain?).',
    );
    expect(refusal(s, '-D INPUT 9')).toBe('iptables: Index of deletion too big.');
    expect(rules(s)).toEqual([
      '-A INPUT -s 9.9.9.9/32 -j ACCEPT',
      '-A INPUT -s 2.2.2.2/32 -j ACCEPT',
      '-A INPUT -s 5.5.5.5/32 -j DROP',
    ]);
  });

  it('deletes the first equal rule, comparing the saved form', () => {
    const s = new NetfilterState();
    ipt(s, '-A INPUT -p tcp --dport 80 -j ACCEPT');
    ipt(s, '-A INPUT -p tcp -m tcp --dport 80 -j ACCEPT -c 5 6');
    ipt(s, '-D INPUT -p 6 --destination-port http -j ACCEPT');
    expect(formatSave(s, { counters: true, date: null })).toContain(
      '[5:6] -A INPUT -p tcp -m tcp --dport 80 -j ACCEPT',
    );
    expect(rules(s)).toHaveLength(1);
  });

  it('checks a rule with -C without changing anything', () => {
    const s = new NetfilterState();
    ipt(s, '-t nat -A POSTROUTING -o eth0 -j MASQUERADE');
    const gen = s.generation;
    expect(ipt(s, '-t nat -C POSTROUTING -o eth0 -j MASQUERADE')).toBe('');
    expect(refusal(s, '-t nat -C POSTROUTING -o eth1 -j MASQUERADE')).toBe(
      'iptables: Bad rule (does a matching rule exist in that chain?).',
    );
    expect(s.generation).toBe(gen);
  });

  it('adds one rule per source and destination address', () => {
    const s = new NetfilterState();
    ipt(s, '-A FORWARD -s 10.0.0.1,10.0.0.2 -d 10.1.0.0/16 -j ACCEPT');
    expect(rules(s)).toEqual([
      '-A FORWARD -s 10.0.0.1/32 -d 10.1.0.0/16 -j ACCEPT',
      '-A FORWARD -s 10.0.0.2/32 -d 10.1.0.0/16 -j ACCEPT',
    ]);
    ipt(s, '-D FORWARD -s 10.0.0.1,10.0.0.2 -d 10.1.0.0/16 -j ACCEPT');
    expect(rules(s)).toEqual([]);
  });

  it('refuses an address on a chain that cannot see it, by name', () => {
    const s = new NetfilterState();
    expect(refusal(s, '-A INPUT -o eth0')).toBe("Can't use -o with INPUT");
    expect(refusal(s, '-t nat -A POSTROUTING -i eth0 -j MASQUERADE')).toBe("Can't use -i with POSTROUTING");
  });

  it('keeps counters given with -c and zeroes them with -Z', () => {
    const s = new NetfilterState();
    ipt(s, '-A INPUT -j ACCEPT -c 10 20');
    ipt(s, '-A OUTPUT --set-counters 3,4 -j ACCEPT');
    ipt(s, '-P FORWARD DROP -c 7 8');
    const c = formatSave(s, { counters: true, date: null });
    expect(c).toContain('[10:20] -A INPUT -j ACCEPT');
    expect(c).toContain('[3:4] -A OUTPUT -j ACCEPT');
    expect(c).toContain(':FORWARD DROP [7:8]');
    ipt(s, '-Z INPUT');
    expect(formatSave(s, { counters: true, date: null })).toContain('[0:0] -A INPUT -j ACCEPT');
    expect(formatSave(s, { counters: true, date: null })).toContain('[3:4] -A OUTPUT -j ACCEPT');
    ipt(s, '-Z OUTPUT 1');
    ipt(s, '-Z');
    expect(formatSave(s, { counters: true, date: null })).toContain(':FORWARD DROP [0:0]');
  });
});

describe('chain commands', () => {
  it('creates, renames and deletes user chains', () => {
    const s = new NetfilterState();
    ipt(s, '-N KUBE-SERVICES');
    expect(refusal(s, '-N KUBE-SERVICES')).toBe('iptables: Chain already exists.');
    expect(refusal(s, '-N INPUT')).toBe('iptables: Chain already exists.');
    ipt(s, '-A INPUT -j KUBE-SERVICES');
    ipt(s, '-A FORWARD -g KUBE-SERVICES');
    ipt(s, '-E KUBE-SERVICES SVC');
    expect(save(s)).toEqual([
      ':INPUT ACCEPT [0:0]',
      ':FORWARD ACCEPT [0:0]',
      ':OUTPUT ACCEPT [0:0]',
      ':SVC - [0:0]',
      '-A INPUT -j SVC',
      '-A FORWARD -g SVC',
    ]);
    expect(refusal(s, '-X SVC')).toBe('iptables: Too many links.');
    ipt(s, '-A SVC -j RETURN');
    ipt(s, '-F INPUT');
    ipt(s, '-F FORWARD');
    expect(refusal(s, '-X SVC')).toBe('iptables: Directory not empty.');
    ipt(s, '-F SVC');
    ipt(s, '-X SVC');
    expect(refusal(s, '-X SVC')).toBe('iptables: No chain/target/match by that name.');
    expect(refusal(s, '-X INPUT')).toBe('iptables: No chain/target/match by that name.');
  });

  it('deletes every user chain with -X, or none', () => {
    const s = new NetfilterState();
    for (const c of ['A', 'B', 'C']) ipt(s, `-N ${c}`);
    ipt(s, '-A INPUT -j B');
    expect(refusal(s, '-X')).toBe('iptables: Too many links.');
    expect(s.chains('filter').map((c) => c.name)).toEqual(['INPUT', 'FORWARD', 'OUTPUT', 'A', 'B', 'C']);
    ipt(s, '-F');
    ipt(s, '-X');
    expect(s.chains('filter').map((c) => c.name)).toEqual(['INPUT', 'FORWARD', 'OUTPUT']);
  });

  it('checks chain names as iptables does', () => {
    const s = new NetfilterState();
    expect(refusal(s, '-N abcdefghijklmnopqrstuvwxyz123')).toBe(
      "chain name `abcdefghijklmnopqrstuvwxyz123' too long (must be under 29 chars)",
    );
    ipt(s, '-N abcdefghijklmnopqrstuvwxyz12');
    expect(refusal(s, '-N DNAT')).toBe('chain name may not clash with target name');
    expect(refusal(s, '-N ACCEPT')).toBe('chain name may not clash with target name');
    expect(refusal(s, '-N !x')).toBe("chain name not allowed to start with `!'");
    expect(refusal(s, '-E abcdefghijklmnopqrstuvwxyz12 LOG')).toBe('chain name may not clash with target name');
    ipt(s, '-N log');
  });

  it('sets policies on built-in chains only', () => {
    const s = new NetfilterState();
    ipt(s, '-P INPUT DROP');
    ipt(s, '-N X');
    expect(refusal(s, '-P X DROP')).toBe('iptables: Bad built-in chain name.');
    expect(refusal(s, '-P INPUT REJECT')).toBe("iptables: Bad policy name. Run `dmesg' for more information.");
    expect(save(s)[0]).toBe(':INPUT DROP [0:0]');
  });

  it('creates a table only when something writes it', () => {
    const s = new NetfilterState();
    for (const l of ['-t nat -L -n', '-t nat -F', '-t nat -Z', '-t nat -S', '-t raw -X']) ipt(s, l);
    expect(refusal(s, '-t nat -C POSTROUTING -j MASQUERADE')).toContain('Bad rule');
    expect(s.existingTables()).toEqual([]);
    expect(formatSave(s)).toBe('');
    ipt(s, '-t mangle -P INPUT DROP');
    ipt(s, '-t nat -N X');
    expect(s.existingTables()).toEqual(['mangle', 'nat']);
  });

  it('bumps the generation on every successful change and not on a refusal', () => {
    const s = new NetfilterState();
    const g0 = s.generation;
    ipt(s, '-A INPUT -j ACCEPT');
    expect(s.generation).toBe(g0 + 1);
    refusal(s, '-A NOPE -j ACCEPT');
    refusal(s, '-A INPUT -j NOPE');
    expect(s.generation).toBe(g0 + 1);
  });
});

describe('commit validation', () => {
  it('refuses a jump to a missing chain', () => {
    const s = new NetfilterState();
    expect(refusal(s, '-A INPUT -j NOPE')).toBe("iptables: Chain 'NOPE' does not exist");
    expect(refusal(s, '-A INPUT -g NOPE')).toBe("iptables: Chain 'NOPE' does not exist");
    expect(refusal(s, '-A NOPE -j ACCEPT')).toBe('iptables: No chain/target/match by that name.');
  });

  it('refuses loops reachable from a built-in chain, directly or through gotos', () => {
    const s = new NetfilterState();
    ipt(s, '-N A');
    ipt(s, '-N B');
    ipt(s, '-A A -j B');
    ipt(s, '-A B -g A');
    expect(refusal(s, '-A INPUT -j A')).toBe('iptables: Too many levels of symbolic links (jump loop A -> B -> A)');
    ipt(s, '-N C');
    ipt(s, '-A C -j C');
    expect(refusal(s, '-A OUTPUT -j C')).toBe('iptables: Too many levels of symbolic links (jump loop C -> C)');
  });

  it('refuses targets outside their table or hooks, also through user chains', () => {
    const s = new NetfilterState();
    expect(refusal(s, '-t mangle -A INPUT -j REJECT')).toBe(
      'iptables: Invalid argument (ip_tables: REJECT target: only valid in filter table, not mangle; rule 1 in chain INPUT)',
    );
    expect(refusal(s, '-t nat -A POSTROUTING -j DNAT --to-destination 10.0.0.1')).toContain(
      'DNAT target: used from hooks POSTROUTING, but only usable from PREROUTING/OUTPUT',
    );
    ipt(s, '-t nat -N X');
    ipt(s, '-t nat -A X -j MASQUERADE');
    ipt(s, '-t nat -A POSTROUTING -j X');
    expect(refusal(s, '-t nat -A OUTPUT -j X')).toContain(
      'MASQUERADE target: used from hooks OUTPUT/POSTROUTING, but only usable from POSTROUTING; rule 1 in chain X',
    );
    expect(refusal(s, '-A OUTPUT -m mac --mac-source 00:11:22:33:44:55')).toContain(
      'mac match: used from hooks OUTPUT, but only usable from PREROUTING/INPUT/FORWARD',
    );
    expect(refusal(s, '-A INPUT -j NOTRACK')).toContain('NOTRACK target: only valid in raw table, not filter');
    expect(refusal(s, '-A INPUT -j REJECT --reject-with tcp-reset')).toContain('TCP_RESET invalid for non-tcp');
  });
});

describe('the command line', () => {
  it('reads getopt forms: clusters, attached values, --opt=value, abbreviations', () => {
    const s = new NetfilterState();
    ipt(s, '-tnat -APOSTROUTING -s10.0.0.0/8 -jMASQUERADE');
    ipt(s, '--table=nat --append=PREROUTING --proto tcp --dport=80 -j DNAT --to 10.0.0.2:8080');
    ipt(s, '-t nat -A OUTPUT -p tcp -m multiport --dport 80,443 -j REDIRECT --to-ports 3128');
    expect(rules(s, 'nat')).toEqual([
      '-A PREROUTING -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.0.0.2:8080',
      '-A OUTPUT -p tcp -m multiport --dports 80,443 -j REDIRECT --to-ports 3128',
      '-A POSTROUTING -s 10.0.0.0/8 -j MASQUERADE',
    ]);
    expect(ipt(s, '-t nat -nvL POSTROUTING')).toContain('MASQUERADE  0    --  *      *       10.0.0.0/8');
    expect(ipt(s, '-w -t nat -S POSTROUTING -4')).toBe(
      '-P POSTROUTING ACCEPT\n-A POSTROUTING -s 10.0.0.0/8 -j MASQUERADE\n',
    );
    expect(ipt(s, '--wait 5 -t nat --list-rules PREROUTING')).toContain('--dport 80');
    expect(ipt(s, '-W 100 -t nat -S OUTPUT 1')).toBe(
      '-A OUTPUT -p tcp -m multiport --dports 80,443 -j REDIRECT --to-ports 3128\n',
    );
  });

  it('refuses what iptables refuses', () => {
    const s = new NetfilterState();
    expect(refusal(s, '-A INPUT -D INPUT 1')).toBe("Can't use -D with -A");
    expect(refusal(s, '-L -s 1.1.1.1')).toBe("Illegal option `-s' with this command");
    expect(refusal(s, '! -j ACCEPT -A INPUT')).toBe('cannot have ! before -j');
    expect(refusal(s, '-A INPUT --s 1.1.1.1')).toContain("option '--s' is ambiguous");
    expect(refusal(s, '-A INPUT -6')).toBe('IPv6 is not supported (this is the IPv4 iptables)');
    expect(refusal(s, '-t bogus -L')).toContain("can't initialize iptables table `bogus'");
    expect(refusal(s, '-A INPUT -m owner --uid-owner 0')).toBe("match `owner' is not supported by podwire");
    expect(refusal(s, '-A INPUT -j TCPMSS')).toBe("target `TCPMSS' is not supported by podwire");
    expect(refusal(s, '-t raw -A OUTPUT -j CT --zone 1')).toBe('CT: option "--zone" is not supported (only --notrack)');
    expect(refusal(s, '-A INPUT -p dccp --dport 80')).toBe(
      "match `dccp' (loaded by -p dccp) is not supported by podwire",
    );
    expect(refusal(s, '-A INPUT -m sctp --dport 80')).toBe("SCTP match requires '-p sctp'");
    expect(refusal(s, '-R INPUT')).toBe('-R requires a rule number');
    expect(refusal(s, '-D INPUT 0')).toBe("Invalid rule number `0'");
    expect(refusal(s, '-A INPUT -p tcp --dport 80 --dport 81')).toBe('tcp: option "--dport" can only be used once.');
    expect(refusal(s, '-A INPUT -m statistic ! --mode random --probability 0.1')).toBe(
      'statistic: option "--mode" cannot be inverted.',
    );
  });

  it('names the line and column of the offending word', () => {
    expect(errorAt('-A INPUT -p tcp --dport 80 --bogus 1')).toBe('cmd:1:28: unknown option "--bogus"');
    expect(errorAt('-A INPUT -s 10.0.0.0/33')).toBe("cmd:1:13: invalid mask `33' specified");
    expect(errorAt('-A INPUT -m nope')).toBe("cmd:1:13: Couldn't load match `nope':No such file or directory");
    expect(errorAt('-A INPUT stray')).toBe("cmd:1:10: Bad argument `stray'");
    expect(errorAt('-A INPUT -p tcp --dport 70000')).toBe("cmd:1:25: invalid port/service `70000' specified");
    expect(errorAt('-A INPUT -m comment')).toBe('cmd:1:13: comment: option "--comment" must be specified');
  });

  it('splits words like the shell in the tests', () => {
    expect(shellWords(`-m comment --comment "a \\"b\\"" 'c d'`)).toEqual([
      '-m',
      'comment',
      '--comment',
      'a "b"',
      'c d',
    ]);
    expect(argsOf(['x'])).toEqual([{ text: 'x' }]);
  });
});
