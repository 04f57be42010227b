// The scenario schema's Kubernetes parts (zod): `cluster.kubernetes` (service CIDR, node port range, kube-proxy's
// options, manifests applied at start), the steps that change the cluster the way kubectl does (apply, delete,
// scale, cordon, uncordon, drain), destinations written as Service references, and the expectations about which
// pod answered and which source it saw. Built by a function of the base pieces schema.ts defines, so both files
// describe values (addresses, CIDRs, names) the same way without importing each other.

import { z } from 'zod';
import {
  CONNECT_REF_SRC,
  DELETE_REF_SRC,
  looksLikeServiceRef,
  PING_REF_SRC,
  SERVED_BY_SRC,
  SOURCE_SEEN_NODE_SRC,
} from './kube-refs.js';

export interface BaseSchemas {
  cidr: z.ZodString;
  nsName: z.ZodString;
  /** Unanchored patterns of an IPv4 address and of ADDRESS:PORT. */
  ipv4Src: string;
  endpointSrc: string;
  /** The messages for a bad address / ADDRESS:PORT. */
  ipv4Error: (text: string) => string;
  endpointError: (text: string) => string;
}

function input(iss: { input?: unknown }): string {
  return typeof iss.input === 'string' ? iss.input : '';
}

const int = (min: number, max: number) => z.int().min(min).max(max);

export function kubeSchemas(b: BaseSchemas) {
  const manifest = z.union([
    z.strictObject({
      file: z.string().min(1).meta({ description: 'A manifest file (YAML stream), relative to the scenario file.' }),
    }),
    z.strictObject({ inline: z.string().min(1).meta({ description: 'A manifest as a literal block (`|`).' }) }),
  ]);

  const kubeProxy = z
    .strictObject({
      clusterCIDR: b.cidr.optional().meta({
        description: "--cluster-cidr (local traffic detector); default flannel's Network, or the pod network's subnet.",
      }),
      masqueradeAll: z.boolean().default(false).meta({ description: '--masquerade-all.' }),
      masqueradeBit: int(0, 31)
        .default(14)
        .meta({ description: '--iptables-masquerade-bit (mark 0x4000 by default).' }),
      nodePortAddresses: z
        .array(b.cidr)
        .default([])
        .meta({ description: '--nodeport-addresses; default every local address.' }),
      localhostNodePorts: z.boolean().default(true).meta({ description: '--iptables-localhost-nodeports.' }),
    })
    .meta({ description: 'kube-proxy (iptables mode) options, the same on every node.' });

  const kubernetes = z
    .strictObject({
      serviceCIDR: b.cidr.default('10.96.0.0/12').meta({ description: '--service-cluster-ip-range.' }),
      nodePortRange: z
        .string()
        .regex(/^[0-9]{1,5}-[0-9]{1,5}$/, {
          error: (iss) => `expected a port range like 30000-32767, got '${input(iss)}'`,
        })
        .default('30000-32767')
        .meta({ description: '--service-node-port-range.' }),
      kubeProxy: kubeProxy.prefault({}),
      loadBalancerPool: b.cidr.optional().meta({
        description:
          'Addresses for LoadBalancer Services, as MetalLB hands them out: spec.loadBalancerIP when given, else the next free one, written to status.loadBalancer.ingress. Without a pool only spec.loadBalancerIP is honoured.',
      }),
      manifests: z
        .array(manifest)
        .default([])
        .meta({ description: 'Applied in order at start, as `kubectl apply -f` (Pods, Deployments, Services …).' }),
    })
    .meta({
      description:
        'A Kubernetes control plane with every node registered (podCIDR = its lease) and kube-proxy in iptables mode on each.',
    });

  const connectTo = z.string().regex(new RegExp(`^(?:${b.endpointSrc}|${CONNECT_REF_SRC})$`), {
    error: (iss) =>
      looksLikeServiceRef(input(iss))
        ? `expected a Service like svc/web:80, nodeport/web:80@node1 or lb/web:80 (svc/<namespace>/<name>:<port> for another namespace), got '${input(iss)}'`
        : b.endpointError(input(iss)),
  });

  const pingTo = z.string().regex(new RegExp(`^(?:${b.ipv4Src}|${PING_REF_SRC})$`), {
    error: (iss) =>
      looksLikeServiceRef(input(iss))
        ? `expected a Service like svc/web or lb/web (a ping has no port), got '${input(iss)}'`
        : b.ipv4Error(input(iss)),
  });

  const servedOne = z.string().regex(new RegExp(`^${SERVED_BY_SRC}$`), {
    error: (iss) => `expected a pod name, deployment/<name> or node/<name>, got '${input(iss)}'`,
  });

  const connectExpect = {
    servedBy: z
      .union([servedOne, z.array(servedOne).min(1)])
      .optional()
      .meta({
        description:
          'The pod that answered (its server replies "<pod> <client ip>:<port>"): a pod name, deployment/<name> (any of its pods), node/<name> (any pod on it), or a list of those.',
      }),
    sourceSeenBy: z
      .string()
      .regex(new RegExp(`^(?:${b.ipv4Src}|${SOURCE_SEEN_NODE_SRC}|client)$`), {
        error: (iss) => `expected an IPv4 address, node/<name> or client, got '${input(iss)}'`,
      })
      .optional()
      .meta({
        description:
          "The source the answering pod saw: an address, node/<name> (any of the node's addresses: SNAT) or client (the client's own: not masqueraded).",
      }),
    spread: z.boolean().optional().meta({
      description: 'With repeat: true, more than one pod answered across the attempts; false, always the same one.',
    }),
  };

  const named = { name: z.string().optional() };

  const applyStep = z
    .strictObject({
      ...named,
      apply: z.union([
        z.string().min(1).meta({ description: 'A manifest as a literal block (`|`).' }),
        z.strictObject({ file: z.string().min(1).meta({ description: 'Relative to the scenario file.' }) }),
      ]),
    })
    .meta({ description: 'kubectl apply -f: create or update the objects of a manifest.' });

  const deleteStep = z
    .strictObject({
      ...named,
      delete: z.string().regex(new RegExp(`^(?:${DELETE_REF_SRC})$`), {
        error: (iss) =>
          `expected svc/<name>, deploy/<name> or pod/<name> (optionally <kind>/<namespace>/<name>), got '${input(iss)}'`,
      }),
    })
    .meta({ description: 'kubectl delete: a Service, a Deployment (its pods go too) or a pod (graceful).' });

  const scaleStep = z
    .strictObject({
      ...named,
      scale: z.strictObject({
        deployment: z.string().min(1).meta({ description: 'The Deployment, as name or namespace/name.' }),
        replicas: int(0, 1000),
      }),
    })
    .meta({ description: 'kubectl scale deployment/<name> --replicas=N.' });

  const node = b.nsName.meta({ description: 'A cluster node.' });
  const steps = [
    applyStep,
    deleteStep,
    scaleStep,
    z.strictObject({ ...named, cordon: node }).meta({ description: 'kubectl cordon: no new pods on the node.' }),
    z.strictObject({ ...named, uncordon: node }).meta({ description: 'kubectl uncordon.' }),
    z.strictObject({ ...named, drain: node }).meta({
      description: "kubectl drain: cordon, then evict the node's pods (their controllers recreate them elsewhere).",
    }),
  ] as const;

  return { kubernetes, connectTo, pingTo, connectExpect, steps };
}
