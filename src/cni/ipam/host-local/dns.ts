// host-local's `resolvConf` option (containernetworking/plugins host-local dns.go): the named resolv.conf, read
// from the node's files, becomes the result's `dns`. Lines are trimmed; empty lines and lines starting with `#` or
// `;` are skipped, as are lines with fewer than two fields; `nameserver` adds one server, `domain` sets the domain
// (the last one wins), `search` and `options` add all their remaining fields. Other keywords are ignored.

import type { Dns, NodeFs } from '../../types.js';

export function parseResolvConf(fs: NodeFs, path: string): Dns {
  const text = fs.read(path);
  if (text === undefined) throw new Error(`open ${path}: no such file or directory`);
  const nameservers: string[] = [];
  const search: string[] = [];
  const options: string[] = [];
  let domain: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const fields = line.split(/\s+/);
    if (fields.length < 2) continue;
    switch (fields[0]) {
      case 'nameserver':
        nameservers.push(fields[1]!);
        break;
      case 'domain':
        domain = fields[1]!;
        break;
      case 'search':
        search.push(...fields.slice(1));
        break;
      case 'options':
        options.push(...fields.slice(1));
        break;
    }
  }
  const dns: Dns = {};
  if (nameservers.length > 0) dns.nameservers = nameservers;
  if (domain !== undefined) dns.domain = domain;
  if (search.length > 0) dns.search = search;
  if (options.length > 0) dns.options = options;
  return dns;
}
