import { BlockList, isIP } from 'node:net';
import { NacbridgeError } from '../errors';
import { normalizeAddress } from './framed-connection';

/**
 * Remote addresses allowed on a listening port (R-CONN-6): exact IPs and CIDR blocks, IPv4 or
 * IPv6, checked on the normalized address (an IPv4-mapped "::ffff:a.b.c.d" counts as a.b.c.d).
 */
export class AllowList {
  private readonly list = new BlockList();
  readonly entries: readonly string[];

  constructor(entries: readonly string[]) {
    this.entries = entries;
    for (const entry of entries) {
      const [address, bits] = entry.split('/');
      const family = isIP(address);
      if (family === 0) throw new NacbridgeError('BAD_ALLOW_ENTRY', `allow entry ${JSON.stringify(entry)} is not an IP address or CIDR block`);
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (bits === undefined) {
        this.list.addAddress(address, type);
        continue;
      }
      const prefix = Number(bits);
      if (!/^\d+$/.test(bits) || prefix > (family === 4 ? 32 : 128)) {
        throw new NacbridgeError('BAD_ALLOW_ENTRY', `allow entry ${JSON.stringify(entry)} has a bad prefix length`);
      }
      this.list.addSubnet(address, prefix, type);
    }
  }

  allows(remote: string): boolean {
    const address = normalizeAddress(remote);
    const family = isIP(address);
    if (family === 0) return false;
    return this.list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }
}
