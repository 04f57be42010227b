// The Services and EndpointSlices of upstream kube-proxy's TestOverallIPTablesRules (proxier_test.go), as API
// objects: a ClusterIP service, a LoadBalancer with Local policy, external IP and health check, a NodePort, a
// NodePort with an external IP, a LoadBalancer with source ranges and ClientIP affinity, and one without endpoints.

import type { EndpointSlice, Service } from '../../src/proxy/model.js';
import { makeService, makeSlice, TEST_NODE_NAME } from './helpers.js';

function services(): Service[] {
  return [
    makeService('ns1', 'svc1', (s) => {
      s.spec.clusterIP = '172.30.0.41';
      s.spec.ports = [{ name: 'p80', port: 80, protocol: 'TCP' }];
    }),
    makeService('ns2', 'svc2', (s) => {
      s.spec.type = 'LoadBalancer';
      s.spec.externalTrafficPolicy = 'Local';
      s.spec.clusterIP = '172.30.0.42';
      s.spec.ports = [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3001 }];
      s.status = { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } };
      s.spec.externalIPs = ['192.168.99.22'];
      s.spec.healthCheckNodePort = 30000;
    }),
    makeService('ns3', 'svc3', (s) => {
      s.spec.type = 'NodePort';
      s.spec.clusterIP = '172.30.0.43';
      s.spec.ports = [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3003 }];
    }),
    makeService('ns4', 'svc4', (s) => {
      s.spec.type = 'NodePort';
      s.spec.clusterIP = '172.30.0.44';
      s.spec.externalIPs = ['192.168.99.33'];
      s.spec.ports = [{ name: 'p80', port: 80, protocol: 'TCP', targetPort: 80 }];
    }),
    makeService('ns5', 'svc5', (s) => {
      s.spec.type = 'LoadBalancer';
      s.spec.externalTrafficPolicy = 'Cluster';
      s.spec.clusterIP = '172.30.0.45';
      s.spec.ports = [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3002 }];
      s.status = { loadBalancer: { ingress: [{ ip: '5.6.7.8' }] } };
      s.spec.healthCheckNodePort = 30000;
      s.spec.loadBalancerSourceRanges = [' 203.0.113.0/25'];
      s.spec.sessionAffinity = 'ClientIP';
      s.spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: 10800 } };
    }),
    makeService('ns6', 'svc6', (s) => {
      s.spec.type = 'ClusterIP';
      s.spec.clusterIP = '172.30.0.46';
      s.spec.ports = [{ name: 'p80', port: 80, protocol: 'TCP', targetPort: 80 }];
    }),
  ];
}

const port80 = (name = 'p80', port = 80) => [{ name, port, protocol: 'TCP' as const }];

function slices(): EndpointSlice[] {
  return [
    makeSlice('ns1', 'svc1', 1, (e) => {
      e.endpoints = [{ addresses: ['10.180.0.1'] }];
      e.ports = port80();
    }),
    makeSlice('ns2', 'svc2', 1, (e) => {
      e.endpoints = [{ addresses: ['10.180.0.2'] }];
      e.ports = port80();
    }),
    makeSlice('ns3', 'svc3', 1, (e) => {
      e.endpoints = [{ addresses: ['10.180.0.3'] }];
      e.ports = port80();
    }),
    makeSlice('ns4', 'svc4', 1, (e) => {
      e.endpoints = [{ addresses: ['10.180.0.4'] }, { addresses: ['10.180.0.5'], nodeName: TEST_NODE_NAME }];
      e.ports = port80();
    }),
    makeSlice('ns5', 'svc5', 1, (e) => {
      e.endpoints = [{ addresses: ['10.180.0.3'] }];
      e.ports = port80();
    }),
  ];
}

export const overall = { services, slices };
