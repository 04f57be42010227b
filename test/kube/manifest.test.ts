// Manifest parsing as kubectl apply -f reads files: documents, Lists, kinds and versions, strict decoding, and the
// line:col every error is placed at.

import { describe, expect, it } from 'vitest';
import { ManifestError, parseManifest } from '../../src/kube/index.js';
import { makeCluster, YAML } from './helpers.js';

/** The error parseManifest throws for `text`, printed `file:line:col: message`. */
function parseError(text: string): string {
  try {
    parseManifest(text, 'app.yaml');
  } catch (e) {
    if (e instanceof ManifestError) return e.toString();
    throw e;
  }
  throw new Error('no error');
}

describe('parseManifest', () => {
  it('reads a multi-document stream, skipping empty documents, defaulting the namespace', () => {
    const objs = parseManifest(
      YAML`
---
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  namespace: ignored
---
# only a comment
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ports: [{port: 80}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: c, image: i}]}
`,
      'app.yaml',
    );
    expect(objs.map((o) => `${o.object.kind} ${o.object.metadata.namespace ?? '-'}/${o.object.metadata.name}`)).toEqual(
      ['Namespace -/shop', 'Service default/web', 'Deployment shop/api'],
    );
    // The locator points back into the right document.
    expect(objs[1]!.source.locate(['spec', 'ports', 0, 'port'])).toEqual({ line: 15, col: 18 });
    expect(objs[2]!.source.locate(['spec', 'template', 'spec', 'containers', 0, 'image'])).toEqual({
      line: 24,
      col: 42,
    });
  });

  it('flattens a v1 List and places its items', () => {
    const objs = parseManifest(
      YAML`
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata: {name: a}
  spec: {ports: [{port: 1}]}
- apiVersion: v1
  kind: Service
  metadata:
    name: b
  spec:
    ports:
    - port: 2
`,
      'list.yaml',
    );
    expect(objs.map((o) => o.object.metadata.name)).toEqual(['a', 'b']);
    expect(objs[1]!.source.locate(['spec', 'ports', 0, 'port'])).toEqual({ line: 14, col: 13 });
    expect(objs[1]!.source.locate(['metadata', 'name'], { key: true })).toEqual({ line: 11, col: 5 });
  });

  it('rejects unknown kinds and versions at the line that names them', () => {
    expect(
      parseError('apiVersion: v1\nkind: Service\n---\napiVersion: v1\nkind: Frobnicator\nmetadata: {name: x}\n'),
    ).toBe('app.yaml:5:7: no matches for kind "Frobnicator" in version "v1"');
    expect(parseError('apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: {name: x}\n')).toBe(
      'app.yaml:1:13: no matches for kind "Deployment" in version "extensions/v1beta1"',
    );
    expect(parseError('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n')).toMatch(
      /^app\.yaml:2:7: kind "ConfigMap" is not supported by podwire \(supported: Deployment, EndpointSlice, Endpoints, Namespace, Pod, ReplicaSet, Service\)$/,
    );
    expect(parseError('metadata: {name: x}\n')).toBe(
      'app.yaml:1:1: error validating data: [apiVersion not set, kind not set]',
    );
  });

  it('decodes strictly: unknown fields at their key, wrong types with the Go decoder message', () => {
    expect(
      parseError(YAML`
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ports:
  - port: 80
    targetport: 8080
`),
    ).toBe(
      'app.yaml:8:5: Service in version "v1" cannot be handled as a Service: strict decoding error: unknown field "spec.ports[0].targetport"',
    );
    expect(
      parseError(YAML`
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ports:
  - port: "80"
`),
    ).toBe(
      'app.yaml:7:11: Service in version "v1" cannot be handled as a Service: json: cannot unmarshal string into Go struct field ServicePort.spec.ports.port of type int32',
    );
    // YAML 1.1 as kubectl reads it: `yes` is a boolean, and a label value must be a string.
    expect(
      parseError(YAML`
apiVersion: v1
kind: Pod
metadata:
  name: p
  labels:
    enabled: yes
spec:
  containers: [{name: c, image: i}]
`),
    ).toBe(
      'app.yaml:6:14: Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal bool into Go struct field ObjectMeta.metadata.labels of type string',
    );
  });

  it('refuses fields podwire does not model when they would matter, naming the field and its line', () => {
    expect(
      parseError(YAML`
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  hostNetwork: true
  containers: [{name: c, image: i}]
`),
    ).toBe(
      'app.yaml:5:3: Pod "p" is invalid: spec.hostNetwork: Forbidden: not supported by podwire: host-network pods are not modelled',
    );
    // The harmless default is fine, and fields without effect (resources, probes) are kept and ignored.
    const [pod] = parseManifest(
      YAML`
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  hostNetwork: false
  containers:
  - name: c
    image: i
    resources: {limits: {cpu: 100m}}
    readinessProbe: {httpGet: {path: /, port: 80}}
status: {phase: Running}
`,
      'app.yaml',
    );
    expect(pod!.object.kind).toBe('Pod');
    expect((pod!.object as { status?: unknown }).status).toBeUndefined();
  });

  it('reports YAML syntax errors and duplicate keys with their position', () => {
    expect(parseError('apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  name: b\n')).toMatch(
      /^app\.yaml:5:3: error parsing YAML: /,
    );
    expect(parseError('apiVersion: v1\nkind: [Service\n')).toMatch(/^app\.yaml:\d+:\d+: error parsing YAML: /);
  });

  it('places validation errors of applied objects at the offending value', () => {
    const { cluster } = makeCluster({ nodes: 1 });
    const text = YAML`
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - name: http
    port: 0
`;
    let err: unknown;
    try {
      cluster.applyManifest(text, 'svc.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ManifestError);
    expect(String(err)).toBe(
      'svc.yaml:9:11: Service "web" is invalid: [spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive, spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive]',
    );
  });
});
