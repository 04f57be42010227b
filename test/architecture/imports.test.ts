// Architecture rules over src/, read from the source text with TypeScript's own parser:
// - layering: wire ← sim ← trace ← netns ← {bridge, iptables} ← {cni, overlay} ← proxy ← kube ← scenario ← cli.
//   A module imports only from its own layer or lower ones; `import type`, `export … from` and `import()` count
//   too, because a type-only edge still couples the layers. src/index.ts, the package's face, may import anything.
// - src/ never reaches outside itself (tools/, test/, bench/ are not part of the package).
// - no `any` type on the packet path (src/wire, src/netns, src/bridge).

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SRC = join(ROOT, 'src');

const LAYERS: readonly (readonly string[])[] = [
  ['wire'],
  ['sim'],
  ['trace'],
  ['netns'],
  ['bridge', 'iptables'],
  ['cni', 'overlay'],
  ['proxy'],
  ['kube'],
  ['scenario'],
  ['cli'],
];
const RANK = new Map(LAYERS.flatMap((names, rank) => names.map((n) => [n, rank] as const)));
const PACKET_PATH = ['wire', 'netns', 'bridge'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return /\.(m|c)?tsx?$/.test(e.name) && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** Every module specifier a file names: imports (also type-only and side-effect), re-exports, `import()`. */
function moduleSpecifiers(text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
}

/** The top-level folder of src/ a file lives in ('' for a file directly in src/). */
function area(file: string): string {
  const parts = relative(SRC, file).split(sep);
  return parts.length > 1 ? parts[0]! : '';
}

interface Edge {
  from: string;
  spec: string;
  target: string;
}

function relativeEdges(file: string, text: string): Edge[] {
  return moduleSpecifiers(text)
    .filter((s) => s.startsWith('.'))
    .map((spec) => ({ from: file, spec, target: resolve(dirname(file), spec) }));
}

/** Layering violations among `edges`, as readable lines. */
function layerViolations(edges: readonly Edge[]): string[] {
  const out: string[] = [];
  for (const e of edges) {
    const from = area(e.from);
    if (from === '') continue; // src/index.ts
    const to = area(e.target);
    const rf = RANK.get(from);
    const rt = RANK.get(to);
    if (rf === undefined || rt === undefined) continue; // reported by the "every folder has a layer" test
    if (rt > rf) out.push(`${relative(ROOT, e.from)} imports ${e.spec}: ${from} may not depend on ${to}`);
  }
  return out;
}

/** Positions of the `any` keyword used as a type (annotations, `as any`, `<any>`, `any[]`, type arguments). */
function anyTypes(fileName: string, text: string): string[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (node.kind === ts.SyntaxKind.AnyKeyword) {
      const { line, character } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
      found.push(`${fileName}:${line + 1}:${character + 1}: ${node.parent.getText(sf).slice(0, 80)}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

const files = sourceFiles(SRC);
const texts = new Map(files.map((f) => [f, readFileSync(f, 'utf8')]));
const edges = files.flatMap((f) => relativeEdges(f, texts.get(f)!));

describe('the checker itself', () => {
  it('sees type-only imports, re-exports, side-effect imports and import()', () => {
    const text = [
      "import type { Scenario } from '../scenario/types.js';",
      "import { type Kernel } from '../netns/kernel.js';",
      "export { x } from '../cli/main.js';",
      "export * from '../kube/index.js';",
      "import '../proxy/register.js';",
      "const m = await import('../overlay/vxlan.js');",
      "// import { y } from '../cni/commented.js';",
      'const s = "import { z } from \'../cni/in-a-string.js\'";',
    ].join('\n');
    expect(moduleSpecifiers(text)).toEqual([
      '../scenario/types.js',
      '../netns/kernel.js',
      '../cli/main.js',
      '../kube/index.js',
      '../proxy/register.js',
      '../overlay/vxlan.js',
    ]);
    const from = join(SRC, 'bridge', 'x.ts');
    expect(layerViolations(relativeEdges(from, text))).toEqual([
      'src/bridge/x.ts imports ../scenario/types.js: bridge may not depend on scenario',
      'src/bridge/x.ts imports ../cli/main.js: bridge may not depend on cli',
      'src/bridge/x.ts imports ../kube/index.js: bridge may not depend on kube',
      'src/bridge/x.ts imports ../proxy/register.js: bridge may not depend on proxy',
      'src/bridge/x.ts imports ../overlay/vxlan.js: bridge may not depend on overlay',
    ]);
    expect(layerViolations(relativeEdges(join(SRC, 'index.ts'), text))).toEqual([]);
  });

  it('finds `any` as a type and nowhere else', () => {
    const text = [
      'let a: any;',
      'const b = c as any;',
      'const d = <any>e;',
      'function f(g: Array<any>): any[] { return g; }',
      'let any = 1; // any',
      "const s = 'as any';",
      'let u: unknown;',
    ].join('\n');
    expect(anyTypes('t.ts', text).map((l) => l.split(': ')[0])).toEqual([
      't.ts:1:8',
      't.ts:2:16',
      't.ts:3:12',
      't.ts:4:21',
      't.ts:4:28',
    ]);
  });
});

describe('architecture of src/', () => {
  it('finds the source files', () => {
    expect(files.length).toBeGreaterThan(50);
    expect(texts.has(join(SRC, 'index.ts'))).toBe(true);
  });

  it('every folder under src/ has a layer', () => {
    const areas = [...new Set(files.map(area))].filter((a) => a !== '');
    expect(areas.filter((a) => !RANK.has(a))).toEqual([]);
    expect(files.filter((f) => area(f) === '').map((f) => relative(ROOT, f))).toEqual(['src/index.ts']);
  });

  it('imports follow the layering', () => {
    expect(layerViolations(edges)).toEqual([]);
  });

  it('netns does not import bridge (the bridge hooks into netns, not the reverse)', () => {
    const bad = edges.filter((e) => area(e.from) === 'netns' && area(e.target) === 'bridge');
    expect(bad.map((e) => `${relative(ROOT, e.from)} → ${e.spec}`)).toEqual([]);
  });

  it('src/ imports nothing outside src/', () => {
    const outside = edges.filter((e) => relative(SRC, e.target).startsWith('..'));
    expect(outside.map((e) => `${relative(ROOT, e.from)} → ${e.spec}`)).toEqual([]);
  });

  it('no `any` type on the packet path (wire, netns, bridge)', () => {
    const onPath = files.filter((f) => PACKET_PATH.includes(area(f)));
    expect(onPath.length).toBeGreaterThan(20);
    expect(onPath.flatMap((f) => anyTypes(relative(ROOT, f), texts.get(f)!))).toEqual([]);
  });
});
