// The scenario file's shape as a zod schema: the single definition that validates files (loader.ts) and that is
// exported as JSON Schema (schema/scenario.schema.json) for editors. Every object is strict — an unknown key is
// an error — and every message says what was expected. Values stay text here (addresses, "ip:port", "ns:dev");
// the loader turns them into numbers once the shape is right. Setup commands are plain strings to this schema;
// their grammar lives in commands/.

import { z } from 'zod';
import { looksLikeIpv6 } from '../wire/addr.js';
import { kubeSchemas } from './kube-schema.js';
import { ICMP_ERRORS } from './types.js';

const OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const PORT = '([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])';
const IPV4 = `${OCTET}(\\.${OCTET}){3}`;
// A namespace or device name: no '/', ':' or whitespace (':' separates them in "ns:dev").
const NAME = '[^/:\\s]+';

export const IPV4_RE = new RegExp(`^${IPV4}$`);
export const ENDPOINT_RE = new RegExp(`^${IPV4}:${PORT}$`);
export const NAME_RE = new RegExp(`^${NAME}$`);
export const HOP_RE = new RegExp(`^${NAME}:${NAME}$`);

function input(iss: { input?: unknown }): string {
  return typeof iss.input === 'string' ? iss.input : '';
}

const ipv4Error = (text: string): string =>
  looksLikeIpv6(text) ? 'IPv6 is not supported' : `expected an IPv4 address like 10.0.0.2, got '${text}'`;

const endpointError = (text: string): string =>
  text.startsWith('[') || (text.split(':').length > 2 && looksLikeIpv6(text))
    ? 'IPv6 is not supported'
    : `expected ADDRESS:PORT like 10.0.0.2:80 (port 1-65535), got '${text}'`;

const ipv4 = z.string().regex(IPV4_RE, { error: (iss) => ipv4Error(input(iss)) });

const nsName = z
  .string()
  .regex(NAME_RE, { error: (iss) => `expected a namespace name (no '/', ':' or spaces), got '${input(iss)}'` })
  .meta({ description: 'A namespace created in setup, or "root" for the initial namespace.' });

// Drop reasons are the trace module's DropReason names (NO_ROUTE, TTL_EXPIRED, …). The set grows with the
// stack's extensions, so the schema checks only the form; a reason no trace can contain fails the step.
export const DROP_REASON_RE = /^[A-Z][A-Z0-9_]*$/;
const ICMP_NAMES = Object.keys(ICMP_ERRORS) as [keyof typeof ICMP_ERRORS, ...(keyof typeof ICMP_ERRORS)[]];

const int = (min: number, max: number) => z.int().min(min).max(max);

function expectation<R extends string, X extends z.ZodRawShape>(results: readonly [R, ...R[]], extra: X) {
  const result = z.enum(results);
  const full = z
    .strictObject({
      result,
      replyFrom: ipv4.optional().meta({ description: 'Source address of the reply, or of the ICMP error.' }),
      icmp: z.enum(ICMP_NAMES).optional().meta({ description: 'The ICMP error expected back.' }),
      drop: z
        .string()
        .regex(DROP_REASON_RE, { error: (iss) => `expected a drop reason like TTL_EXPIRED, got '${input(iss)}'` })
        .optional()
        .meta({ description: 'A drop reason (DropReason name) that must appear in the trace of the step.' }),
      via: z
        .array(
          z.string().regex(HOP_RE, { error: (iss) => `expected "<ns>:<dev>" like "router:eth1", got '${input(iss)}'` }),
        )
        .min(1)
        .optional()
        .meta({ description: 'Devices ("<ns>:<dev>") the request must pass through.' }),
      replyTtl: int(0, 255).optional(),
      ...extra,
    })
    .meta({ description: 'The outcome with details to check.' });
  return z.union([result, full]);
}

const cidr = z.string().regex(new RegExp(`^${IPV4}/(3[0-2]|[12]?[0-9])$`), {
  error: (iss) =>
    looksLikeIpv6(input(iss))
      ? 'IPv6 is not supported'
      : `expected ADDRESS/LEN like 192.168.50.11/24, got '${input(iss)}'`,
});

const kube = kubeSchemas({
  cidr,
  nsName,
  ipv4Src: IPV4,
  endpointSrc: `${IPV4}:${PORT}`,
  ipv4Error,
  endpointError,
});

const pingStep = z.strictObject({
  name: z.string().optional(),
  ping: z.strictObject({
    from: nsName,
    src: ipv4.optional().meta({ description: 'Source address override (ping -I).' }),
    to: kube.pingTo.meta({ description: 'An address, or a Service: svc/<name> (cluster IP), lb/<name>.' }),
    count: int(1, 1000).default(1),
    ttl: int(1, 255).optional().meta({ description: "Default: the namespace's net.ipv4.ip_default_ttl." }),
    size: int(0, 65507).default(56).meta({ description: 'ICMP payload bytes (ping -s).' }),
    df: z.boolean().optional().meta({ description: 'false: DF clear (ping -M dont); default DF set, as ping.' }),
  }),
  // A ping sees a reply, an error (ICMP or local), or nothing at all; a refusal needs a transport protocol.
  expect: expectation(['reachable', 'unreachable', 'timeout'], {}),
});

const connectStep = z.strictObject({
  name: z.string().optional(),
  connect: z.strictObject({
    from: nsName,
    src: ipv4.optional().meta({ description: 'Source address override.' }),
    to: kube.connectTo.meta({
      description:
        'ADDRESS:PORT, or a Service: svc/<name>:<port> (cluster IP), nodeport/<name>:<port>@<node>, lb/<name>:<port>.',
    }),
    proto: z.enum(['tcp', 'udp']).default('tcp'),
    payload: z.string().default('').meta({ description: 'Bytes sent once connected (UTF-8).' }),
    repeat: int(1, 1000)
      .default(1)
      .meta({ description: 'Connections made one after the other; every expectation holds for each.' }),
  }),
  expect: expectation(['reachable', 'unreachable', 'refused', 'timeout'], kube.connectExpect),
});

const listener = z.strictObject({
  ns: nsName,
  proto: z.enum(['tcp', 'udp']),
  port: int(1, 65535),
  address: ipv4.optional().meta({ description: 'Bound address; default any.' }),
  reply: z.string().default('').meta({ description: 'Payload sent back to every client (UTF-8).' }),
});

/** An iptables-restore document as one setup item; its text keeps exact positions in the file. */
const iptablesRestoreItem = z
  .strictObject({
    'iptables-restore': z.string().meta({
      description: 'Rules in iptables-restore format (an iptables-save dump works too), best as a literal block (`|`).',
    }),
    ns: nsName.optional().meta({ description: 'Namespace the rules go to; default the initial one ("root").' }),
    noflush: z.boolean().optional().meta({ description: 'iptables-restore --noflush.' }),
    counters: z.boolean().optional().meta({ description: 'iptables-restore --counters.' }),
  })
  .meta({ description: 'iptables-restore with the given rules on standard input.' });

const clusterNode = z.strictObject({
  name: nsName.meta({ description: "The node's namespace; its eth0 is a port of its underlay segment's bridge." }),
  address: cidr.meta({ description: "The node's address on eth0." }),
  gateway: ipv4.optional().meta({ description: "The node's default route." }),
  segment: nsName.optional().meta({ description: 'The underlay segment eth0 is on; default the first one.' }),
  podCIDR: cidr.optional().meta({
    description:
      "The node's spec.podCIDR (flannel's lease with the Kubernetes subnet manager); default: allocated in node order.",
  }),
});

const segment = z.strictObject({
  name: nsName.meta({ description: 'The L2 segment: a bridge of this name in the initial namespace.' }),
  mtu: int(68, 65535).optional().meta({ description: 'MTU of every link on the segment (default 1500).' }),
});

const routerIface = z.strictObject({
  segment: nsName,
  address: cidr,
});

const router = z.strictObject({
  name: nsName.meta({ description: "The router's namespace; eth0, eth1, … in the order of its interfaces." }),
  interfaces: z.array(routerIface).min(1),
});

const client = z.strictObject({
  name: nsName.meta({ description: 'A host on the underlay (outside the cluster), eth0 on its segment.' }),
  address: cidr,
  gateway: ipv4.optional(),
  segment: nsName.optional().meta({ description: 'Default: the first segment.' }),
});

const underlay = z
  .strictObject({
    segments: z
      .array(segment)
      .min(1)
      .default([{ name: 'underlay' }]),
    routers: z.array(router).default([]),
    clients: z.array(client).default([]),
  })
  .meta({ description: 'The network the nodes are on: L2 segments, routers joining them, external clients.' });

const flannel = z
  .strictObject({
    netConf: z.string().min(1).meta({ description: "flannel's net-conf.json (inline JSON, best as a `|` block)." }),
    ipMasq: z.boolean().default(true).meta({ description: 'flanneld --ip-masq (kube-flannel passes it).' }),
  })
  .meta({ description: 'Run flanneld on every node (vxlan or host-gw backend, from net-conf.json).' });

const portMapping = z.strictObject({
  hostPort: int(1, 65535),
  containerPort: int(1, 65535),
  protocol: z.enum(['TCP', 'UDP', 'tcp', 'udp']).default('TCP'),
  hostIP: ipv4.optional(),
});

const clusterPod = z.strictObject({
  name: nsName.meta({ description: 'The pod; steps and listeners name it in `from` and `ns`.' }),
  node: nsName,
  namespace: z.string().min(1).default('default').meta({ description: 'The Kubernetes namespace.' }),
  ports: z.array(portMapping).default([]).meta({ description: 'hostPort mappings (the portMappings capability).' }),
});

const clusterCni = z.union([
  z.strictObject({ file: z.string().min(1).meta({ description: 'A .conflist, relative to the scenario file.' }) }),
  z.strictObject({ config: z.string().min(1).meta({ description: 'A .conflist as inline JSON (`|` block).' }) }),
]);

const cluster = z
  .strictObject({
    underlay: underlay.optional(),
    nodes: z.array(clusterNode).min(1),
    flannel: flannel.optional(),
    cni: clusterCni.optional().meta({
      description: "The pod network, written to every node's /etc/cni/net.d; default with flannel: kube-flannel's.",
    }),
    pods: z.array(clusterPod).default([]),
    kubernetes: kube.kubernetes.optional(),
  })
  .meta({ description: 'Nodes on an underlay network with a CNI pod network (and flannel), built before setup runs.' });

const leaveStep = z
  .strictObject({
    name: z.string().optional(),
    leave: nsName.meta({ description: 'A cluster node that leaves: it is shut down and its flannel lease removed.' }),
  })
  .meta({ description: 'A node leaves the cluster.' });

export const scenarioSchema = z
  .strictObject({
    name: z.string().min(1),
    description: z.string().optional(),
    seed: int(0, 0xffffffff).default(1).meta({ description: 'Seed of the only random number generator of a run.' }),
    setup: z
      .union([z.array(z.union([z.string(), iptablesRestoreItem])), z.string()])
      .default([])
      .meta({
        description:
          'Linux commands (ip, bridge, sysctl, iptables, echo > /proc/sys/…): a list, or a literal block (`|`) with one per line. A list item may also be an iptables-restore document.',
      }),
    cluster: cluster.optional(),
    listen: z.array(listener).default([]),
    steps: z.array(z.union([pingStep, connectStep, leaveStep, ...kube.steps])).default([]),
  })
  .meta({ title: 'podwire scenario' });

export type ScenarioInput = z.input<typeof scenarioSchema>;
export type ScenarioData = z.output<typeof scenarioSchema>;

/** The JSON Schema of a scenario file, as written to schema/scenario.schema.json. */
export function scenarioJsonSchema(): object {
  return z.toJSONSchema(scenarioSchema, { io: 'input', target: 'draft-7' });
}

/** The exact text of schema/scenario.schema.json. */
export function scenarioJsonSchemaText(): string {
  return `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`;
}
