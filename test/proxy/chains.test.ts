import { describe, expect, it } from 'vitest';
import { endpointChain, hash16, isServiceChainName, serviceChains } from '../../src/proxy/chains.js';

// Chain names that upstream kube-proxy's proxier_test.go expects for the same service ports and endpoints.
describe('kube-proxy chain names', () => {
  it('hash the service port name and lower-case protocol like upstream', () => {
    expect(serviceChains('ns1/svc1:p80', 'tcp')).toEqual({
      cluster: 'KUBE-SVC-XPGD46QRK7WJZT7O',
      local: 'KUBE-SVL-XPGD46QRK7WJZT7O',
      firewall: 'KUBE-FW-XPGD46QRK7WJZT7O',
      external: 'KUBE-EXT-XPGD46QRK7WJZT7O',
    });
    expect(serviceChains('ns2/svc2:p80', 'tcp').cluster).toBe('KUBE-SVC-GNZBNJ2PO5MGZ6GT');
    expect(serviceChains('ns5/svc5:p80', 'tcp').firewall).toBe('KUBE-FW-NUKIZ6OKUXPJNT4C');
    expect(serviceChains('ns2/svc2:p8080', 'tcp').cluster).toBe('KUBE-SVC-2VJB64SDSIJUP5T6');
  });

  it('add the endpoint for KUBE-SEP chains', () => {
    expect(endpointChain('ns1/svc1:p80', 'tcp', '10.180.0.1:80')).toBe('KUBE-SEP-SXIVWICOYRO3J4NJ');
    expect(endpointChain('ns5/svc5:p80', 'tcp', '10.180.0.3:80')).toBe('KUBE-SEP-I77PXRDZVX7PMWMN');
    expect(endpointChain('ns3/svc3:p80', 'tcp', '10.0.3.2:80')).toBe('KUBE-SEP-DKCFIS26GWF2WLWC');
  });

  it('are 16 base32 characters and recognised as service chains', () => {
    expect(hash16('x')).toMatch(/^[A-Z2-7]{16}$/);
    expect(isServiceChainName('KUBE-SEP-ABC')).toBe(true);
    expect(isServiceChainName('KUBE-SERVICES')).toBe(false);
    expect(isServiceChainName('KUBE-MARK-MASQ')).toBe(false);
  });
});
