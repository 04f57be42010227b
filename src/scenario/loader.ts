// Reads a scenario file: YAML (one document, unique keys, no unresolved tags or aliases), then the zod schema,
// then the setup commands (strings, or mapping items such as `- iptables-restore: |` handed to the parser an
// extension registered for their key), then the checks that need the whole file (clashing listeners, steps that
// need Kubernetes, the manifests of `apply` steps). Whatever goes wrong, exactly one ScenarioError comes out — the
// one earliest in the file — with `file:line:col` pointing at the offending node, key or word, and a code frame in
// `detail`. Nothing else is thrown for any input text.

import { readFileSync } from 'node:fs';
import type { Document, Scalar, YAMLMap } from 'yaml';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, visit } from 'yaml';
import { parseIpv4 } from '../wire/addr.js';
import { inlineLocator, loadCluster } from './cluster-load.js';
import { parseCommands } from './commands/parse.js';
import type { CommandSource } from './commands/tokenize.js';
import { codeFrame, ScenarioError } from './errors.js';
import type { Located } from './issues.js';
import { locate } from './issues.js';
import { type KubeLoadContext, loadKubeSteps } from './kube-load.js';
import { parseConnectRef, parseDeleteRef, parsePingRef, parseServedBy, parseSourceSeen } from './kube-refs.js';
import type { ScenarioData } from './schema.js';
import { scenarioSchema } from './schema.js';
import type {
  Cluster,
  Command,
  Expectation,
  KubeManifest,
  Listener,
  Pos,
  Scenario,
  ServedBy,
  Step,
  StepAction,
} from './types.js';
import { isFoldedFlow, nodeAt, offsetOf, scalarSource } from './yaml-source.js';

type Doc = Document.Parsed;

/**
 * A setup list item written as a mapping (`- iptables-restore: |` …) is handed to the parser registered for the key
 * that names it, with the key's text as a command source (exact positions) and the mapping's other fields.
 */
export type SetupItemParser = (src: CommandSource, fields: Record<string, unknown>, pos: Pos) => Command;

const setupItems = new Map<string, SetupItemParser>();

/** Makes mapping items with key `key` known (netfilter registers `iptables-restore`). */
export function registerSetupItem(key: string, parser: SetupItemParser): void {
  setupItems.set(key, parser);
}

/** Keys the schema accepts as setup mapping items. */
const SETUP_ITEM_KEYS = ['iptables-restore'];

export function loadScenario(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new ScenarioError(path, 0, 0, `cannot read scenario file: ${reason}`);
  }
  return parseScenario(text, path);
}

export function parseScenario(text: string, file: string): Scenario {
  const lc = new LineCounter();
  const at = (offset: number): Pos => ({ file, ...lc.linePos(offset) });
  const fail = (e: ScenarioError): never => {
    // A position in another file (a referenced CNI configuration) gets its frame from the CLI, which reads it.
    if (e.file === file) e.detail ??= codeFrame(text, e.line, e.col);
    throw e;
  };

  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const yamlProblem = earliest([...doc.errors, ...doc.warnings].map((e) => ScenarioError.at(at(e.pos[0]), e.message)));
  if (yamlProblem !== undefined) fail(yamlProblem);

  const badAlias = unresolvedAlias(doc);
  if (badAlias !== undefined) fail(ScenarioError.at(at(badAlias.offset), `unknown alias '*${badAlias.name}'`));

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    fail(ScenarioError.at(at(0), e instanceof Error ? e.message : String(e)));
  }

  const candidates: ScenarioError[] = [];
  const parsed = scenarioSchema.safeParse(data);
  if (!parsed.success) {
    const located: Located[] = parsed.error.issues
      .flatMap((is) => locate(is, data, scenarioSchema))
      .map((l) => commandItemIssue(l, data) ?? l);
    const errs = located.map((l) => ScenarioError.at(at(offsetOf(doc, l.path, l.key)), l.message));
    const first = earliest(errs);
    if (first !== undefined) candidates.push(first);
  }

  const setup = parseSetup(text, file, doc, lc, candidates);

  let cluster: Cluster | undefined;
  if (parsed.success && parsed.data.cluster !== undefined) {
    try {
      cluster = loadCluster(parsed.data.cluster, { text, file, doc, lc, setup });
    } catch (e) {
      if (!(e instanceof ScenarioError)) throw e;
      candidates.push(e);
    }
  }

  let kubeManifests = new Map<number, KubeManifest>();
  if (parsed.success) {
    const kctx: KubeLoadContext = {
      file,
      pos: (path) => at(offsetOf(doc, path)),
      inline: (path, t, fallback) => inlineLocator({ text, file, doc, lc }, path, t, fallback),
    };
    try {
      kubeManifests = loadKubeSteps(parsed.data, kctx, cluster?.kubernetes);
    } catch (e) {
      if (!(e instanceof ScenarioError)) throw e;
      candidates.push(e);
    }
  }

  if (parsed.success) {
    const clash = listenerClash(parsed.data);
    if (clash !== undefined) {
      const [i, j] = clash;
      const l = parsed.data.listen[i]!;
      candidates.push(
        ScenarioError.at(
          at(offsetOf(doc, ['listen', j])),
          `listen[${j}]: namespace '${l.ns}' already listens on ${l.proto} port ${l.port} (listen[${i}])`,
        ),
      );
    }
  }

  const problem = earliest(candidates);
  if (problem !== undefined || !parsed.success || setup === undefined) {
    return fail(problem ?? ScenarioError.at(at(0), 'invalid scenario'));
  }
  const scenario = build(parsed.data, file, setup, (path) => at(offsetOf(doc, path)), kubeManifests);
  if (cluster !== undefined) scenario.cluster = cluster;
  return scenario;
}

/**
 * A setup item that is a mapping without any item key was meant as a command: say that a string is expected rather
 * than listing what an item mapping would need.
 */
function commandItemIssue(l: Located, data: unknown): Located | undefined {
  const [root, index] = l.path;
  if (root !== 'setup' || typeof index !== 'number') return undefined;
  const setup = (data as { setup?: unknown }).setup;
  const item = Array.isArray(setup) ? (setup[index] as unknown) : undefined;
  if (item === null || typeof item !== 'object' || Array.isArray(item)) return undefined;
  if (SETUP_ITEM_KEYS.some((k) => k in item)) return undefined;
  return { path: ['setup', index], key: false, message: `setup[${index}]: expected a string, got a mapping` };
}

function earliest(errors: readonly ScenarioError[]): ScenarioError | undefined {
  let best: ScenarioError | undefined;
  for (const e of errors) {
    if (best === undefined || e.line < best.line || (e.line === best.line && e.col < best.col)) best = e;
  }
  return best;
}

function unresolvedAlias(doc: Doc): { offset: number; name: string } | undefined {
  let found: { offset: number; name: string } | undefined;
  visit(doc, {
    Alias(_, node) {
      if (node.resolve(doc) === undefined) {
        found = { offset: node.range?.[0] ?? 0, name: node.source };
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

/**
 * Parses the commands of `setup` straight from its YAML nodes, so that positions are exact. Problems are
 * pushed to `candidates`; the result is undefined when a command failed or setup is not of a parseable shape.
 */
function parseSetup(
  text: string,
  file: string,
  doc: Doc,
  lc: LineCounter,
  candidates: ScenarioError[],
): Command[] | undefined {
  const node = nodeAt(doc, ['setup']);
  const commands: Command[] = [];
  const at = (offset: number): Pos => ({ file, ...lc.linePos(offset) });
  const run = (scalar: Scalar, limitOne: boolean): boolean => {
    try {
      const src = scalarSource(text, scalar, file, lc);
      const cmds = parseCommands(src);
      if (limitOne && cmds.length !== 1) {
        const message =
          cmds.length === 0
            ? 'empty command'
            : 'a list item holds one command; for several, use a literal block (setup: |)';
        const where = cmds.length === 0 ? at(scalar.range?.[0] ?? 0) : cmds[1]!.pos;
        candidates.push(ScenarioError.at(where, message));
        return false;
      }
      commands.push(...cmds);
      return true;
    } catch (e) {
      if (!(e instanceof ScenarioError)) throw e;
      candidates.push(e);
      return false;
    }
  };

  const mapItem = (map: YAMLMap): boolean => {
    const pairFor = (key: string) => map.items.find((p) => isScalar(p.key) && p.key.value === key);
    const key = SETUP_ITEM_KEYS.find((k) => pairFor(k) !== undefined);
    if (key === undefined) return false; // the schema reports it
    const pair = pairFor(key)!;
    const body = isAlias(pair.value) ? pair.value.resolve(doc) : pair.value;
    if (!isScalar(body) || typeof body.value !== 'string') return false; // the schema reports it
    const pos = at(map.range?.[0] ?? 0);
    const parser = setupItems.get(key);
    if (parser === undefined) {
      candidates.push(ScenarioError.at(pos, `'${key}' items need netfilter, which this build does not enable`));
      return false;
    }
    const fields = map.toJSON() as Record<string, unknown>;
    try {
      commands.push(parser(scalarSource(text, body, file, lc), fields, pos));
      return true;
    } catch (e) {
      if (!(e instanceof ScenarioError)) throw e;
      candidates.push(e);
      return false;
    }
  };

  if (node === undefined || node === null) return commands;
  if (isSeq(node)) {
    for (const item of node.items) {
      const value = isAlias(item) ? item.resolve(doc) : item;
      if (isMap(value)) {
        if (!mapItem(value)) return undefined;
        continue;
      }
      if (!isScalar(value) || typeof value.value !== 'string') return undefined; // the schema reports it
      if (!run(value, true)) return undefined;
    }
    return commands;
  }
  if (isScalar(node) && typeof node.value === 'string') {
    if (node.type === 'BLOCK_FOLDED' || isFoldedFlow(text, node)) {
      candidates.push(
        ScenarioError.at(
          at(node.range?.[0] ?? 0),
          "setup: several lines need a literal block ('setup: |') so that each line stays one command",
        ),
      );
      return undefined;
    }
    return run(node, false) ? commands : undefined;
  }
  return undefined;
}

/** Two listeners that Linux would refuse to bind both: same namespace, protocol and port, overlapping address. */
function listenerClash(data: ScenarioData): [number, number] | undefined {
  const ls = data.listen;
  for (let j = 0; j < ls.length; j++) {
    for (let i = 0; i < j; i++) {
      const a = ls[i]!;
      const b = ls[j]!;
      if (a.ns !== b.ns || a.proto !== b.proto || a.port !== b.port) continue;
      if (a.address === undefined || b.address === undefined || a.address === b.address) return [i, j];
    }
  }
  return undefined;
}

function ip(text: string): number {
  // The schema's pattern admits only dotted quads parseIpv4 accepts.
  return parseIpv4(text)!;
}

type StepData = ScenarioData['steps'][number];
type ProbeData = Extract<StepData, { ping: unknown }> | Extract<StepData, { connect: unknown }>;

function expectation(e: ProbeData['expect']): Expectation {
  if (typeof e === 'string') return { result: e };
  const out: Expectation = { result: e.result };
  if (e.replyFrom !== undefined) out.replyFrom = ip(e.replyFrom);
  if (e.icmp !== undefined) out.icmp = e.icmp;
  if (e.drop !== undefined) out.drop = e.drop;
  if (e.via !== undefined) {
    out.via = e.via.map((h) => {
      const c = h.indexOf(':');
      return { ns: h.slice(0, c), dev: h.slice(c + 1) };
    });
  }
  if (e.replyTtl !== undefined) out.replyTtl = e.replyTtl;
  if ('servedBy' in e && e.servedBy !== undefined) {
    // The schema's patterns admit only what the parsers accept.
    out.servedBy = [e.servedBy].flat().map((t) => parseServedBy(t) as ServedBy);
  }
  if ('sourceSeenBy' in e && e.sourceSeenBy !== undefined) out.sourceSeenBy = parseSourceSeen(e.sourceSeenBy)!;
  if ('spread' in e && e.spread !== undefined) out.spread = e.spread;
  return out;
}

/** A step that changes the cluster; undefined for ping and connect steps. */
function actionOf(s: StepData, manifest: KubeManifest | undefined): StepAction | undefined {
  if ('leave' in s) return { kind: 'leave', node: s.leave };
  if ('apply' in s) return { kind: 'apply', manifest: manifest! }; // loadKubeSteps read every apply step's manifest
  if ('delete' in s) {
    const d = parseDeleteRef(s.delete)!;
    return { kind: 'delete', resource: d.resource, namespace: d.namespace, name: d.name, text: s.delete };
  }
  if ('scale' in s) {
    const slash = s.scale.deployment.indexOf('/');
    return {
      kind: 'scale',
      namespace: slash < 0 ? 'default' : s.scale.deployment.slice(0, slash),
      deployment: slash < 0 ? s.scale.deployment : s.scale.deployment.slice(slash + 1),
      replicas: s.scale.replicas,
    };
  }
  if ('cordon' in s) return { kind: 'cordon', node: s.cordon };
  if ('uncordon' in s) return { kind: 'uncordon', node: s.uncordon };
  if ('drain' in s) return { kind: 'drain', node: s.drain };
  return undefined;
}

function build(
  data: ScenarioData,
  file: string,
  setup: Command[],
  posOf: (path: PropertyKey[]) => Pos,
  manifests: ReadonlyMap<number, KubeManifest>,
): Scenario {
  const listen: Listener[] = data.listen.map((l, i) => {
    const out: Listener = { pos: posOf(['listen', i]), ns: l.ns, proto: l.proto, port: l.port, reply: l.reply };
    if (l.address !== undefined) out.address = ip(l.address);
    return out;
  });
  const steps: Step[] = data.steps.map((s, i) => {
    const pos = posOf(['steps', i]);
    let step: Step;
    const action = actionOf(s, manifests.get(i));
    if (action !== undefined) {
      step = { kind: 'action', pos, action };
    } else if ('ping' in s) {
      const p = s.ping;
      const service = parsePingRef(p.to);
      step = {
        kind: 'ping',
        pos,
        from: p.from,
        to: service === undefined ? ip(p.to) : 0,
        count: p.count,
        size: p.size,
        expect: expectation(s.expect),
      };
      if (service !== undefined) step.service = service;
      if (p.src !== undefined) step.src = ip(p.src);
      if (p.ttl !== undefined) step.ttl = p.ttl;
      if (p.df !== undefined) step.df = p.df;
    } else if ('connect' in s) {
      const c = s.connect;
      const service = parseConnectRef(c.to);
      const colon = c.to.lastIndexOf(':');
      step = {
        kind: 'connect',
        pos,
        proto: c.proto,
        from: c.from,
        to: service === undefined ? ip(c.to.slice(0, colon)) : 0,
        port: service === undefined ? Number(c.to.slice(colon + 1)) : 0,
        payload: c.payload,
        expect: expectation(s.expect),
      };
      if (service !== undefined) step.service = service;
      if (c.repeat > 1) step.repeat = c.repeat;
      if (c.src !== undefined) step.src = ip(c.src);
    } else {
      throw new Error('unreachable: the schema admits no other step');
    }
    if (s.name !== undefined) step.name = s.name;
    return step;
  });
  const scenario: Scenario = { file, name: data.name, seed: data.seed, setup, listen, steps };
  if (data.description !== undefined) scenario.description = data.description;
  return scenario;
}
