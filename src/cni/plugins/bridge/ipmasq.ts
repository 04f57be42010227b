// Masquerading of a container's traffic as the reference plugins set it up with iptables (pkg/ip's SetupIPMasq /
// TeardownIPMasq): one nat chain per network and container (`CNI-` + hash, see ../chain-name.ts); in it
// `-d <subnet> -j ACCEPT` and `! -d 224.0.0.0/4 -j MASQUERADE`; and in POSTROUTING `-s <ip> -j <chain>`, every rule
// commented `name: "<net>" id: "<container>"`. Commands run as go-iptables runs them: the chain is made when
// missing, rules are appended only when `-C` does not find them, and teardown deletes both forms of the
// POSTROUTING jump (`-s <ip>` and the pre-2019 `-s <ip>/<len>`), flushes the chain (creating it first when
// missing, as go-iptables' ClearChain does) and deletes it, ignoring "does not exist" answers at every step.
// The iptables backend only: nftables is refused.

import type { NetNs } from '../../../netns/netns.js';
import { type Cidr, formatCidr, formatIpv4 } from '../../../wire/addr.js';
import { CniError } from '../../types.js';
import { formatChainName } from '../chain-name.js';
import { Ipt } from '../iptables-chain.js';
import { goQuote } from './go-format.js';

const MULTICAST_NET = '224.0.0.0/4';

/** utils.FormatComment: `name: "<net>" id: "<id>"` with Go's %q quoting. */
export function formatComment(name: string, id: string): string {
  return `name: ${goQuote(name)} id: ${goQuote(id)}`;
}

/** go-iptables' Error.IsNotExist: the rule or chain was not there. */
function isNotExist(e: unknown): boolean {
  return (
    e instanceof CniError &&
    (e.message.includes('Bad rule (does a matching rule exist in that chain?)') ||
      e.message.includes('No chain/target/match by that name') ||
      e.message.includes('No such file or directory'))
  );
}

function ignoreNotExist(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (!isNotExist(e)) throw e;
  }
}

/** The rules' words for one address; `ipn` keeps its host bits as net.IPNet.String() does. */
function specs(ipn: Cidr, chain: string, comment: string) {
  const c = ['-m', 'comment', '--comment', comment];
  return {
    accept: ['-d', formatCidr(ipn), '-j', 'ACCEPT', ...c],
    masq: ['!', '-d', MULTICAST_NET, '-j', 'MASQUERADE', ...c],
    jump: ['-s', formatIpv4(ipn.addr), '-j', chain, ...c],
    legacyJump: ['-s', formatCidr(ipn), '-j', chain, ...c],
  };
}

/** ip.SetupIPMasq for one IPv4 address of the container (`ipn` = address with the subnet's prefix length). */
export function setupIpMasq(ns: NetNs, ipn: Cidr, chain: string, comment: string): void {
  const ipt = new Ipt(ns);
  ipt.ensureChain('nat', chain);
  const s = specs(ipn, chain, comment);
  ipt.insertUnique('nat', chain, false, s.accept);
  ipt.insertUnique('nat', chain, false, s.masq);
  ipt.insertUnique('nat', 'POSTROUTING', false, s.jump);
}

/** ip.TeardownIPMasq. */
export function teardownIpMasq(ns: NetNs, ipn: Cidr, chain: string, comment: string): void {
  const ipt = new Ipt(ns);
  const s = specs(ipn, chain, comment);
  ignoreNotExist(() => ipt.run(['-t', 'nat', '-D', 'POSTROUTING', ...s.jump]));
  ignoreNotExist(() => ipt.run(['-t', 'nat', '-D', 'POSTROUTING', ...s.legacyJump]));
  ignoreNotExist(() => {
    if (ipt.chainExists('nat', chain)) ipt.run(['-t', 'nat', '-F', chain]);
    else ipt.run(['-t', 'nat', '-N', chain]);
  });
  ignoreNotExist(() => ipt.run(['-t', 'nat', '-X', chain]));
}

/** ip.SetupIPMasqForNetworks with the iptables backend (the only one modelled). */
export function setupIpMasqForNetworks(
  ns: NetNs,
  backend: string | undefined,
  ipns: readonly Cidr[],
  network: string,
  containerId: string,
): void {
  const b = backend ?? 'iptables';
  if (b === 'nftables') throw new Error('ipMasqBackend "nftables" is not supported by podwire');
  if (b !== 'iptables') throw new Error(`unknown ipmasq backend ${goQuote(b)}`);
  const chain = formatChainName(network, containerId);
  const comment = formatComment(network, containerId);
  for (const ipn of ipns) setupIpMasq(ns, ipn, chain, comment);
}

/** ip.TeardownIPMasqForNetworks: errors of every address, joined by newlines. */
export function teardownIpMasqForNetworks(
  ns: NetNs,
  ipns: readonly Cidr[],
  network: string,
  containerId: string,
): void {
  const chain = formatChainName(network, containerId);
  const comment = formatComment(network, containerId);
  const errs: string[] = [];
  for (const ipn of ipns) {
    try {
      teardownIpMasq(ns, ipn, chain, comment);
    } catch (e) {
      errs.push(e instanceof Error ? e.message : String(e));
    }
  }
  if (errs.length) throw new Error(errs.join('\n'));
}
