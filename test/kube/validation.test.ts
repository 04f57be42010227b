// Validation messages in the API server's words, as upstream's validation code (pkg/apis/core/validation,
// apimachinery's field errors and aggregates) composes them for the same objects; kubectl prints them after "The ".

import { describe, expect, it } from 'vitest';
import { ApiError, type KubeObject, type Service } from '../../src/kube/index.js';
import { makeCluster } from './helpers.js';

function applyError(obj: KubeObject, setup?: (c: ReturnType<typeof makeCluster>['cluster']) => void): string {
  const { cluster } = makeCluster({ nodes: 1 });
  setup?.(cluster);
  try {
    cluster.apply(obj);
  } catch (e) {
    if (e instanceof ApiError) return e.message;
    throw e;
  }
  throw new Error('applied without error');
}

const svc = (spec: Service['spec'], name = 'web'): Service => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name },
  spec,
});

describe('Service validation', () => {
  it('port out of range', () => {
    expect(applyError(svc({ selector: { app: 'web' }, ports: [{ port: 0, targetPort: 8080 }] }))).toBe(
      'Service "web" is invalid: spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive',
    );
  });

  it('name must be a DNS-1035 label', () => {
    expect(applyError(svc({ ports: [{ port: 80 }] }, '1web'))).toBe(
      'Service "1web" is invalid: metadata.name: Invalid value: "1web": a DNS-1035 label must consist of lower case ' +
        "alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character " +
        "(e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
    );
  });

  it('several errors are an aggregate in brackets', () => {
    expect(
      applyError(
        svc({
          type: 'NodePort',
          clusterIP: 'None',
          ports: [
            { port: 80, protocol: 'TCP' },
            { port: 81, name: 'b' },
          ],
        }),
      ),
    ).toBe(
      'Service "web" is invalid: [spec.clusterIPs[0]: Invalid value: "None": may not be set to \'None\' for NodePort services, ' +
        'spec.ports[0].name: Required value]',
    );
  });

  it('unsupported type and protocol list the supported values', () => {
    expect(applyError(svc({ type: 'Magic' as 'ClusterIP', ports: [{ port: 80 }] }))).toBe(
      'Service "web" is invalid: spec.type: Unsupported value: "Magic": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
    );
    expect(applyError(svc({ ports: [{ port: 53, protocol: 'ICMP' as 'TCP' }] }))).toBe(
      'Service "web" is invalid: spec.ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
    );
  });

  it('node ports only for NodePort and LoadBalancer, duplicate ports refused', () => {
    expect(applyError(svc({ ports: [{ port: 80, nodePort: 30080 }] }))).toBe(
      'Service "web" is invalid: spec.ports[0].nodePort: Forbidden: may not be used when `type` is \'ClusterIP\'',
    );
    expect(
      applyError(
        svc({
          ports: [
            { name: 'a', port: 80 },
            { name: 'b', port: 80 },
          ],
        }),
      ),
    ).toBe(
      'Service "web" is invalid: spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", ' +
        'AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}',
    );
  });

  it('session affinity timeout and traffic policies', () => {
    expect(
      applyError(
        svc({
          ports: [{ port: 80 }],
          sessionAffinity: 'ClientIP',
          sessionAffinityConfig: { clientIP: { timeoutSeconds: 0 } },
        }),
      ),
    ).toBe(
      'Service "web" is invalid: spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 0: must be greater than 0 and less than 86400',
    );
    expect(applyError(svc({ ports: [{ port: 80 }], externalTrafficPolicy: 'Local' }))).toBe(
      'Service "web" is invalid: spec.externalTrafficPolicy: Invalid value: "Local": may only be set for externally-accessible services',
    );
  });

  it('named target ports must be IANA service names', () => {
    expect(applyError(svc({ ports: [{ port: 80, targetPort: 'web_http' }] }))).toBe(
      'Service "web" is invalid: spec.ports[0].targetPort: Invalid value: "web_http": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
    );
  });

  it('this single-stack cluster refuses dual stack and IPv6 as the API server does', () => {
    expect(applyError(svc({ ports: [{ port: 80 }], ipFamilyPolicy: 'RequireDualStack' }))).toBe(
      'Service "web" is invalid: spec.ipFamilyPolicy: Invalid value: "RequireDualStack": this cluster is not configured for dual-stack services',
    );
    expect(applyError(svc({ ports: [{ port: 80 }], ipFamilies: ['IPv6'] }))).toBe(
      'Service "web" is invalid: spec.ipFamilies[0]: Invalid value: "IPv6": not configured on this cluster',
    );
  });

  it('a cluster IP may not change once set', () => {
    expect(
      applyError(svc({ ports: [{ port: 80 }], clusterIP: '10.96.100.100' }), (c) => {
        c.apply(svc({ ports: [{ port: 80 }], clusterIP: '10.96.100.99' }));
      }),
    ).toBe(
      'Service "web" is invalid: spec.clusterIPs[0]: Invalid value: []string{"10.96.100.100"}: may not change once set',
    );
  });

  it('a missing namespace is NotFound', () => {
    const s = svc({ ports: [{ port: 80 }] });
    s.metadata.namespace = 'nope';
    expect(applyError(s)).toBe('namespaces "nope" not found');
  });
});

describe('workload and endpoint validation', () => {
  it('Deployment selector must match the template labels', () => {
    expect(
      applyError({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web' },
        spec: {
          selector: { matchLabels: { app: 'web' } },
          template: { metadata: { labels: { app: 'api' } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
        },
      }),
    ).toBe(
      'Deployment.apps "web" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"api"}: `selector` does not match template `labels`',
    );
  });

  it('Deployment selector is immutable', () => {
    const d = (app: string): KubeObject => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: {
        selector: { matchLabels: { app } },
        template: { metadata: { labels: { app } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
      },
    });
    expect(applyError(d('web2'), (c) => c.apply(d('web')))).toBe(
      'Deployment.apps "web" is invalid: spec.selector: Invalid value: &LabelSelector{MatchLabels:map[string]string{app: web2,},MatchExpressions:[]LabelSelectorRequirement{},}: field is immutable',
    );
  });

  it('pods need containers, with images and valid ports', () => {
    expect(applyError({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [] } })).toBe(
      'Pod "p" is invalid: spec.containers: Required value',
    );
    expect(
      applyError({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'p' },
        spec: { containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 70000 }] }] },
      }),
    ).toBe(
      'Pod "p" is invalid: spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive',
    );
  });

  it('the readiness annotation takes only "true" or "false"', () => {
    expect(
      applyError({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'p', annotations: { 'podwire.io/ready': 'maybe' } },
        spec: { containers: [{ name: 'c', image: 'i' }] },
      }),
    ).toBe(
      'Pod "p" is invalid: metadata.annotations[podwire.io/ready]: Invalid value: "maybe": must be "true" or "false"',
    );
  });

  it("Endpoints may not point at loopback; invalid IPs give both of upstream's messages", () => {
    const ep = (ip: string): KubeObject => ({
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'ext' },
      subsets: [{ addresses: [{ ip }], ports: [{ port: 80 }] }],
    });
    expect(applyError(ep('127.0.0.1'))).toBe(
      'Endpoints "ext" is invalid: subsets[0].addresses[0].ip: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)',
    );
    expect(applyError(ep('10.0.0'))).toBe(
      'Endpoints "ext" is invalid: [subsets[0].addresses[0].ip: Invalid value: "10.0.0": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff), ' +
        'subsets[0].addresses[0].ip: Invalid value: "10.0.0": must be a valid IP address]',
    );
  });

  it('EndpointSlice address types', () => {
    expect(
      applyError({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 's' },
        addressType: 'IPX' as 'IPv4',
        endpoints: [],
      }),
    ).toBe(
      'EndpointSlice.discovery.k8s.io "s" is invalid: addressType: Unsupported value: "IPX": supported values: "FQDN", "IPv4", "IPv6"',
    );
  });
});

describe('defaulting', () => {
  it('fills in a Service as the API server does', () => {
    const { cluster } = makeCluster({ nodes: 1 });
    const np = cluster.apply(
      svc({ type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80 }], sessionAffinity: 'ClientIP' }),
    ).object as Service;
    const port = np.spec.ports![0]!;
    expect(port).toMatchObject({ port: 80, protocol: 'TCP', targetPort: 80 });
    expect(np.spec).toMatchObject({
      type: 'NodePort',
      sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
      externalTrafficPolicy: 'Cluster',
      internalTrafficPolicy: 'Cluster',
      ipFamilyPolicy: 'SingleStack',
      ipFamilies: ['IPv4'],
    });
    expect(np.spec.clusterIPs).toEqual([np.spec.clusterIP]);
    const lb = cluster.apply(svc({ type: 'LoadBalancer', ports: [{ port: 443 }] }, 'lb')).object as Service;
    expect(lb.spec.allocateLoadBalancerNodePorts).toBe(true);
    expect(lb.spec.healthCheckNodePort).toBeUndefined();
    const ext = cluster.apply(svc({ type: 'ExternalName', externalName: 'db.example.com' }, 'ext')).object as Service;
    expect(ext.spec.clusterIP).toBeUndefined();
    expect(ext.spec.ipFamilies).toBeUndefined();
    expect(ext.spec.internalTrafficPolicy).toBeUndefined();
  });
});
