// The short references a scenario uses for Kubernetes objects, kubectl-style: destinations resolved through the API
// when a step runs (`svc/web:80` the Service's cluster IP, `nodeport/web:80@node2` node2's address and the
// Service's node port, `lb/web:80` its first status.loadBalancer.ingress IP; a namespace may come first,
// `svc/shop/web:80`; the port is the Service port's number or name), objects to delete (`svc/web`, `deploy/web`,
// `pod/web`, with kubectl's short and plural resource names), and the `servedBy` / `sourceSeenBy` expectations.
// Only the text form is checked here; whether the object exists is known when the step runs.

import type { Ipv4 } from '../wire/addr.js';
import { parseIpv4 } from '../wire/addr.js';
import type { KubeDeleteKind, ServedBy, ServiceRef, SourceSeen } from './types.js';

/** A DNS-1123 name (Services, namespaces) or subdomain (pods): lower-case letters, digits, '-' and '.'. */
const OBJ = '[a-z0-9](?:[-a-z0-9.]*[a-z0-9])?';
/** A Service port: its number (1-65535) or its name (an IANA service name). */
const PORT =
  '(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]|[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)';
/** A scenario node name, as the schema's namespace names (no '/', ':', '@' or spaces). */
const NODE = '[^/:@\\s]+';

/** Unanchored patterns of each form, for the schema (JSON Schema `pattern`) and the parsers below. */
export const CONNECT_REF_SRC = `(svc|lb)/(?:(${OBJ})/)?(${OBJ}):(${PORT})|nodeport/(?:(${OBJ})/)?(${OBJ}):(${PORT})@(${NODE})`;
export const PING_REF_SRC = `(svc|lb)/(?:(${OBJ})/)?(${OBJ})`;
export const DELETE_REF_SRC = `(svc|service|services|deploy|deployment|deployments|po|pod|pods)/(?:(${OBJ})/)?(${OBJ})`;
export const SERVED_BY_SRC = `(?:(deploy|deployment)/(?:(${OBJ})/)?(${OBJ})|node/(${NODE})|(${OBJ}))`;
export const SOURCE_SEEN_NODE_SRC = `node/(${NODE})`;

const CONNECT_RE = new RegExp(`^(?:${CONNECT_REF_SRC})$`);
const PING_RE = new RegExp(`^(?:${PING_REF_SRC})$`);
const DELETE_RE = new RegExp(`^(?:${DELETE_REF_SRC})$`);
const SERVED_RE = new RegExp(`^${SERVED_BY_SRC}$`);
const SEEN_NODE_RE = new RegExp(`^${SOURCE_SEEN_NODE_SRC}$`);

/** Does `text` look like an attempt at a Kubernetes reference (so the error should talk about those)? */
export function looksLikeServiceRef(text: string): boolean {
  return /^(svc|lb|nodeport)\//.test(text);
}

function port(text: string): number | string {
  return /^[0-9]+$/.test(text) ? Number(text) : text;
}

/** `svc/[ns/]name:port`, `lb/[ns/]name:port` or `nodeport/[ns/]name:port@node`; undefined when it is none. */
export function parseConnectRef(text: string): ServiceRef | undefined {
  const m = CONNECT_RE.exec(text);
  if (!m) return undefined;
  if (m[1] !== undefined) {
    return { kind: m[1] as 'svc' | 'lb', namespace: m[2] ?? 'default', name: m[3]!, port: port(m[4]!), text };
  }
  return { kind: 'nodeport', namespace: m[5] ?? 'default', name: m[6]!, port: port(m[7]!), node: m[8]!, text };
}

/** `svc/[ns/]name` or `lb/[ns/]name` for a ping; undefined when it is none. */
export function parsePingRef(text: string): ServiceRef | undefined {
  const m = PING_RE.exec(text);
  if (!m) return undefined;
  return { kind: m[1] as 'svc' | 'lb', namespace: m[2] ?? 'default', name: m[3]!, text };
}

export interface DeleteRef {
  resource: KubeDeleteKind;
  namespace: string;
  name: string;
}

const RESOURCES: Record<string, KubeDeleteKind> = {
  svc: 'Service',
  service: 'Service',
  services: 'Service',
  deploy: 'Deployment',
  deployment: 'Deployment',
  deployments: 'Deployment',
  po: 'Pod',
  pod: 'Pod',
  pods: 'Pod',
};

/** `kubectl delete` arguments: `svc/web`, `deploy/shop/web`, `pod/web-0`. */
export function parseDeleteRef(text: string): DeleteRef | undefined {
  const m = DELETE_RE.exec(text);
  if (!m) return undefined;
  return { resource: RESOURCES[m[1]!]!, namespace: m[2] ?? 'default', name: m[3]! };
}

/** A pod name, `deployment/[ns/]name` (any of its pods) or `node/<node>` (any pod on it). */
export function parseServedBy(text: string): ServedBy | undefined {
  const m = SERVED_RE.exec(text);
  if (!m) return undefined;
  if (m[3] !== undefined) return { kind: 'deployment', namespace: m[2] ?? 'default', name: m[3] };
  if (m[4] !== undefined) return { kind: 'node', node: m[4] };
  return { kind: 'pod', name: m[5]! };
}

/** An address, `node/<node>` (any of the node's addresses: SNAT) or `client` (the client's own: no SNAT). */
export function parseSourceSeen(text: string): SourceSeen | undefined {
  if (text === 'client') return { kind: 'client' };
  const m = SEEN_NODE_RE.exec(text);
  if (m) return { kind: 'node', node: m[1]! };
  const ip: Ipv4 | null = parseIpv4(text);
  return ip === null ? undefined : { kind: 'ip', ip };
}

export function formatServedBy(s: ServedBy): string {
  switch (s.kind) {
    case 'pod':
      return s.name;
    case 'deployment':
      return `deployment/${s.namespace === 'default' ? '' : `${s.namespace}/`}${s.name}`;
    case 'node':
      return `node/${s.node}`;
  }
}
