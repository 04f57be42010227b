// The veth pair of a CNI attachment as pkg/ip's SetupVeth makes it: created from inside the container namespace with
// the container end named as asked (CNI_IFNAME) and the host end, named `veth` + 8 hex digits of 4 random bytes,
// placed straight into the host namespace; the host end is set up, the container end stays down until its
// addresses are configured. On a name clash the reference retries with a new random name only when the clashing name
// exists in the container namespace (its peerExists looks there), so a clash in the host namespace is an error, as
// is an existing container interface. Random bytes come from the kernel's seeded PRNG.

import { NetlinkError } from '../../../netns/errors.js';
import { createVeth, linkSetUp } from '../../../netns/link.js';
import type { NetNs } from '../../../netns/netns.js';
import type { Veth } from '../../../netns/veth.js';
import type { Rng } from '../../../sim/rng.js';
import { isMulticastMac, type Mac, parseMac } from '../../../wire/addr.js';
import { errnoText, goQuote } from './go-format.js';

/** ip.RandomVethName: `veth%x` of 4 random bytes. */
export function randomVethName(rng: Rng): string {
  return `veth${rng.u32().toString(16).padStart(8, '0')}`;
}

/** net.ParseMAC for the 6-byte forms (`aa:bb:…`, `aa-bb-…`, `aabb.ccdd.eeff`). */
export function parseGoMac(text: string): Mac {
  const dotted = /^([0-9a-fA-F]{4})\.([0-9a-fA-F]{4})\.([0-9a-fA-F]{4})$/.exec(text);
  const colon = dotted
    ? `${dotted[1]}${dotted[2]}${dotted[3]}`.replace(/(..)(?!$)/g, '$1:')
    : /^[0-9a-fA-F]{2}(-[0-9a-fA-F]{2}){5}$/.test(text)
      ? text.replaceAll('-', ':')
      : text;
  const m = parseMac(colon);
  if (m === null) throw new Error(`address ${text}: invalid MAC address`);
  return m;
}

export interface VethEnds {
  host: Veth;
  cont: Veth;
}

/**
 * ip.SetupVeth called inside `contNs`: makes the pair (up to 10 tries), sets the host end up.
 * `mtu` 0 keeps the default; `mac` is the container end's address.
 */
export function setupVeth(
  contNs: NetNs,
  hostNs: NetNs,
  contName: string,
  mtu: number,
  mac: string | undefined,
  rng: Rng,
): VethEnds {
  for (let i = 0; i < 10; i++) {
    const peerName = randomVethName(rng);
    try {
      if (mtu !== 0 && (mtu < 68 || mtu > 65535)) throw new NetlinkError('Error: mtu out of range.', 'EINVAL');
      const contMac = mac === undefined ? undefined : parseGoMac(mac);
      if (contMac !== undefined && isMulticastMac(contMac))
        throw new NetlinkError('RTNETLINK answers: Cannot assign requested address', 'EADDRNOTAVAIL');
      const [cont, host] = createVeth(contNs, {
        name: contName,
        peerName,
        peerNs: hostNs,
        ...(mtu > 0 ? { mtu } : {}),
        ...(contMac !== undefined ? { mac: contMac } : {}),
      });
      linkSetUp(host);
      return { host, cont };
    } catch (e) {
      if (e instanceof NetlinkError && e.errno === 'EEXIST') {
        if (contNs.devs.has(peerName)) continue;
        throw new Error(
          `container veth name (${goQuote(contName)}) peer provided (${goQuote(peerName)}) already exists`,
        );
      }
      throw new Error(`failed to make veth pair: ${errnoText(e)}`);
    }
  }
  throw new Error('failed to find a unique veth name');
}
