// Test support for the kube-proxy model: builders for Services and EndpointSlices in their API shape (like
// upstream's makeTestService/makeTestEndpointSlice), a proxier configured like upstream's NewFakeProxier on a
// podwire namespace, and the canonical ordering upstream's proxier_test.go compares restore payloads in
// (sortIPTablesRules), so payloads can be checked against its expected dumps line for line.

import { Kernel } from '../../src/netns/kernel.js';
import type { NetNs } from '../../src/netns/netns.js';
import type { EndpointSlice, Service } from '../../src/proxy/model.js';
import { Proxier, type ProxierOptions } from '../../src/proxy/proxier.js';

export const TEST_NODE_NAME = 'test-node';
export const TEST_NODE_IP = '192.168.0.2';
export const TEST_NODE_IP_ALT = '192.168.1.2';
export const TEST_EXTERNAL_IP = '192.168.99.11';
export const TEST_EXTERNAL_CLIENT = '203.0.113.2';
export const TEST_EXTERNAL_CLIENT_BLOCKED = '203.0.113.130';

export function makeService(namespace: string, name: string, fn: (s: Service) => void): Service {
  const s: Service = { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace, annotations: {} }, spec: {} };
  fn(s);
  return s;
}

export function makeSlice(namespace: string, name: string, n: number, fn: (s: EndpointSlice) => void): EndpointSlice {
  const s: EndpointSlice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${name}-${n}`, namespace, labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    endpoints: [],
  };
  fn(s);
  return s;
}

export interface FakeNode {
  k: Kernel;
  ns: NetNs;
  proxier: Proxier;
}

/** A node namespace and a proxier set up as upstream's NewFakeProxier sets up its own. */
export function fakeProxier(extra: Partial<ProxierOptions> = {}, seed = 1): FakeNode {
  const k = new Kernel({ seed });
  k.tracer.tracing = false;
  const ns = k.addNetns('node');
  const proxier = new Proxier({
    nodeName: TEST_NODE_NAME,
    nodeIPs: [TEST_NODE_IP],
    clusterCIDR: '10.0.0.0/8',
    masqueradeMark: '0x4000',
    randomFully: false,
    interfaceAddrs: ['127.0.0.1', TEST_NODE_IP, TEST_NODE_IP_ALT, TEST_EXTERNAL_IP],
    ns,
    ...extra,
  });
  return { k, ns, proxier };
}

export function addServices(p: Proxier, ...svcs: Service[]): void {
  for (const s of svcs) p.onServiceAdd(s);
}

export function addSlices(p: Proxier, ...slices: EndpointSlice[]): void {
  for (const s of slices) p.onEndpointSliceAdd(s);
}

interface DumpChain {
  name: string;
  rules: string[];
  deleted: boolean;
}

interface DumpTable {
  name: string;
  chains: DumpChain[];
}

/** Words of a rule as upstream's parser splits them (a double-quoted string is one word, quotes removed). */
function ruleWords(rule: string): string[] {
  const out: string[] = [];
  const re = /(?:^|\s)("[^"]*"|[^"]\S*)/g;
  for (let m = re.exec(rule); m !== null; m = re.exec(rule)) out.push(m[1]!.replace(/^"|"$/g, ''));
  return out;
}

function commentOf(rule: string): string | null {
  const w = ruleWords(rule);
  const i = w.indexOf('--comment');
  return i >= 0 && i + 1 < w.length ? w[i + 1]! : null;
}

function serviceNameOf(comment: string): string {
  const i = comment.search(/[ :]/);
  return i < 0 ? comment : comment.slice(0, i);
}

function byServiceName(a: string, b: string): number {
  const ca = commentOf(a);
  const cb = commentOf(b);
  if (ca === null || cb === null) return 0;
  const na = serviceNameOf(ca);
  const nb = serviceNameOf(cb);
  return na < nb ? -1 : na > nb ? 1 : 0;
}

export function parseDump(text: string): DumpTable[] {
  const tables: DumpTable[] = [];
  let t: DumpTable | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('*')) {
      t = { name: line.slice(1), chains: [] };
      tables.push(t);
    } else if (line === 'COMMIT') t = null;
    else if (t === null) throw new Error(`line outside a table: ${line}`);
    else if (line.startsWith(':')) t.chains.push({ name: line.slice(1).split(' ')[0]!, rules: [], deleted: false });
    else if (line.startsWith('-A ')) {
      const name = line.split(' ')[1]!;
      const c = t.chains.find((x) => x.name === name);
      if (c === undefined) throw new Error(`rule for an undeclared chain: ${line}`);
      if (c.deleted) throw new Error(`rule for a deleted chain: ${line}`);
      c.rules.push(line);
    } else if (line.startsWith('-X ')) {
      const c = t.chains.find((x) => x.name === line.slice(3));
      if (c === undefined) throw new Error(`deleting an undeclared chain: ${line}`);
      if (c.rules.length > 0) throw new Error(`deleting a chain after adding rules: ${line}`);
      c.deleted = true;
    } else throw new Error(`unparsed line: ${line}`);
  }
  return tables;
}

function chainOrder(a: string, b: string): number {
  const rank = (n: string) => (n === 'KUBE-NODEPORTS' ? 0 : n === 'KUBE-SERVICES' ? 1 : n.startsWith('KUBE-') ? 2 : 3);
  const d = rank(a) - rank(b);
  if (d !== 0) return d;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** upstream's sortIPTablesRules. */
export function sortDump(text: string): string {
  const tables = parseDump(text).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const t of tables) {
    t.chains.sort((a, b) => chainOrder(a.name, b.name));
    for (const c of t.chains) {
      if (c.name === 'KUBE-NODEPORTS') c.rules.sort(byServiceName);
      if (c.name === 'KUBE-SERVICES') {
        const last = (r: string) => (commentOf(r) ?? '').includes('must be the last rule');
        c.rules.sort((a, b) => (last(a) ? (last(b) ? 0 : 1) : last(b) ? -1 : byServiceName(a, b)));
      }
    }
  }
  let out = '';
  for (const t of tables) {
    out += `*${t.name}\n`;
    for (const c of t.chains) out += `:${c.name} - [0:0]\n`;
    for (const c of t.chains) for (const r of c.rules) out += `${r}\n`;
    for (const c of t.chains) if (c.deleted) out += `-X ${c.name}\n`;
    out += 'COMMIT\n';
  }
  return out;
}

/** The rules of one chain of a payload, in order. */
export function chainRules(payload: string, table: string, chain: string): string[] {
  const t = parseDump(payload).find((x) => x.name === table);
  return t?.chains.find((c) => c.name === chain)?.rules ?? [];
}
