// flannel's subnet leases (pkg/lease) as the Kubernetes subnet manager keeps them: a node's lease is its podCIDR
// plus the attributes its flanneld announced in the node's annotations under flannel.alpha.coreos.com/ —
// public-ip (the underlay address other nodes send to), backend-type, backend-data (vxlan: `{"VNI":1,"VtepMAC":
// "…"}` as Go marshals vxlanLeaseAttrs; host-gw: `null`, the marshalled empty RawMessage) and
// kube-subnet-manager "true" (only nodes carrying it are leases to the others). Events tell a node's backend that a
// lease was added or removed.

import { type Cidr, formatCidr, formatIpv4, formatMac, type Ipv4, type Mac } from '../../wire/addr.js';

/** flanneld --kube-annotation-prefix default. */
export const ANNOTATION_PREFIX = 'flannel.alpha.coreos.com';

export const ANNOTATIONS = {
  subnetKubeManaged: `${ANNOTATION_PREFIX}/kube-subnet-manager`,
  backendData: `${ANNOTATION_PREFIX}/backend-data`,
  backendType: `${ANNOTATION_PREFIX}/backend-type`,
  publicIp: `${ANNOTATION_PREFIX}/public-ip`,
} as const;

export interface LeaseAttrs {
  publicIp: Ipv4;
  backendType: string;
  /** The backend's data as the annotation holds it (JSON text). */
  backendData: string;
}

export interface Lease {
  /** The node the lease belongs to. */
  node: string;
  /** The node's podCIDR (network address, prefix length). */
  subnet: Cidr;
  attrs: LeaseAttrs;
}

export type LeaseEventType = 'added' | 'removed';

export interface LeaseEvent {
  type: LeaseEventType;
  lease: Lease;
}

/** vxlanLeaseAttrs marshalled: field order VNI, VtepMAC; the MAC as net.HardwareAddr prints it. */
export function vxlanBackendData(vni: number, vtepMac: Mac): string {
  return `{"VNI":${vni},"VtepMAC":"${formatMac(vtepMac)}"}`;
}

/** The annotations AcquireLease puts on the node, sorted by key as `kubectl get node -o yaml` shows them. */
export function leaseAnnotations(lease: Lease): Record<string, string> {
  const a: Record<string, string> = {
    [ANNOTATIONS.backendData]: lease.attrs.backendData,
    [ANNOTATIONS.backendType]: lease.attrs.backendType,
    [ANNOTATIONS.subnetKubeManaged]: 'true',
    [ANNOTATIONS.publicIp]: formatIpv4(lease.attrs.publicIp),
  };
  return Object.fromEntries(Object.entries(a).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
}

/** One line for people: `n1 10.244.1.0/24 public-ip 192.168.50.11 vxlan {"VNI":1,…}`. */
export function formatLease(lease: Lease): string {
  return `${lease.node} ${formatCidr(lease.subnet)} public-ip ${formatIpv4(lease.attrs.publicIp)} ${lease.attrs.backendType} ${lease.attrs.backendData}`;
}
