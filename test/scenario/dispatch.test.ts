import { describe, expect, it } from 'vitest';
import type { Args, CommandContext } from '../../src/scenario/commands/index.js';
import { isRegistered, parseCommand, registerCommand } from '../../src/scenario/commands/index.js';
import { ScenarioError } from '../../src/scenario/errors.js';
import { parseScenario } from '../../src/scenario/loader.js';
import type { Command } from '../../src/scenario/types.js';

// A stand-in for the netfilter module: a real extension adds its own kind to CommandKinds by declaration
// merging; this one reuses the sysctl shape so that the test does not widen Command for the whole program.
function fakeIptables(args: Args, ctx: CommandContext): Command {
  const words: string[] = [];
  while (!args.done) {
    const t = args.next('an argument');
    if (t.text === '-X') args.fail(t, "'-X' is not allowed here");
    words.push(t.text);
  }
  return {
    kind: 'sysctl',
    ns: ctx.ns,
    pos: ctx.pos,
    settings: [{ key: 'iptables', value: words.join(' '), pos: ctx.pos }],
  };
}

function message(line: string): string {
  try {
    parseCommand(line, 'r.yaml');
  } catch (e) {
    if (e instanceof ScenarioError) return e.toString();
    throw e;
  }
  return 'no error';
}

describe('registerCommand', () => {
  it('makes an unknown program known without touching the built-in parsers', () => {
    expect(isRegistered('iptables')).toBe(false);
    expect(message('iptables -A FORWARD -j ACCEPT')).toBe("r.yaml:1:1: unsupported command 'iptables'");
    expect(message('ip netns exec a iptables -L')).toBe("r.yaml:1:17: unsupported command 'iptables'");

    registerCommand('iptables', fakeIptables);
    expect(isRegistered('iptables')).toBe(true);

    const plain = parseCommand('iptables -t nat -A POSTROUTING -j MASQUERADE', 'r.yaml');
    expect(plain).toMatchObject({ ns: null, settings: [{ value: '-t nat -A POSTROUTING -j MASQUERADE' }] });
    expect(parseCommand('ip netns exec a iptables -L', 'r.yaml')).toMatchObject({ ns: 'a', pos: { line: 1, col: 1 } });
    expect(parseCommand('sudo iptables -L', 'r.yaml')).toMatchObject({ ns: null });
    expect(message('iptables -F -X')).toBe("r.yaml:1:13: '-X' is not allowed here");

    const s = parseScenario(
      'name: x\nsetup: |\n  ip netns add a\n  ip netns exec a iptables -P FORWARD DROP\n',
      'r.yaml',
    );
    expect(s.setup[1]).toMatchObject({ ns: 'a', pos: { file: 'r.yaml', line: 4, col: 3 } });
    expect(() => parseScenario('name: x\nsetup:\n  - iptables -X\n', 'r.yaml')).toThrow("'-X' is not allowed here");

    expect(() => registerCommand('iptables', fakeIptables)).toThrow("command 'iptables' is already registered");
  });
});
