// Where outbound requests may go. Two checks: the URL's host name against REDOX_ALLOW_HOSTS
// (before anything is sent), and every address a name resolves to against a block list (after
// DNS, before connect), so a public name that resolves to the cloud metadata service is refused
// as surely as the literal address.
import dns from 'node:dns';
import net from 'node:net';

export interface Policy {
  /** Host name patterns ("api.example.com", "*.example.com"); null: every host is allowed. */
  allowHosts: string[] | null;
  /** Resolved addresses that must never be connected to. */
  blocked: net.BlockList;
}

/** Raised by the connector when a destination is refused; mapped to the "blocked" code. */
export class BlockedError extends Error {
  readonly code = 'REDOX_BLOCKED';
}

export function policyFromEnv(env: (name: string) => string | undefined): Policy {
  const hosts = env('REDOX_ALLOW_HOSTS');
  const blocked = new net.BlockList();
  if (env('REDOX_ALLOW_LINK_LOCAL') !== '1') {
    // Link-local ranges hold the cloud metadata services (169.254.169.254 on every big cloud);
    // AWS also answers on fd00:ec2::254 over IPv6.
    blocked.addSubnet('169.254.0.0', 16, 'ipv4');
    blocked.addSubnet('fe80::', 10, 'ipv6');
    blocked.addAddress('fd00:ec2::254', 'ipv6');
  }
  return {
    allowHosts: hosts === undefined || hosts.trim() === '' ? null : hosts.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean),
    blocked,
  };
}

/** "[::1]" -> "::1", "Example.COM." -> "example.com". */
export function bareHost(hostname: string): string {
  let h = hostname.toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

/** The reason a host name is refused by REDOX_ALLOW_HOSTS, or null when it may be used. */
export function hostRefusal(policy: Policy, hostname: string): string | null {
  if (policy.allowHosts === null) return null;
  const host = bareHost(hostname);
  const allowed = policy.allowHosts.some((p) => {
    if (p === '*') return true;
    if (p.startsWith('*.')) return host.endsWith(p.slice(1));
    return bareHost(p) === host;
  });
  if (allowed) return null;
  return `host "${host}" is not in REDOX_ALLOW_HOSTS (${policy.allowHosts.join(', ')}); add it there to allow requests to it`;
}

/** The reason an IP address is refused, or null. */
export function addressRefusal(policy: Policy, address: string, hostname: string): string | null {
  const family = net.isIP(address);
  if (family === 0 || !policy.blocked.check(address, family === 6 ? 'ipv6' : 'ipv4')) return null;
  const via = bareHost(hostname) === address ? '' : ` (resolved from "${bareHost(hostname)}")`;
  return `address ${address}${via} is link-local or a cloud metadata address and is blocked; set REDOX_ALLOW_LINK_LOCAL=1 to allow it`;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;
export type LookupFunction = (hostname: string, options: dns.LookupOptions, callback: LookupCallback) => void;

/** A drop-in for dns.lookup (as net.connect calls it) that fails when any resolved address is
 *  blocked. `resolve` is the real resolver; it is a parameter so the check can be exercised. */
export function guardedLookup(policy: Policy, resolve: LookupFunction = dns.lookup as unknown as LookupFunction): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, options, (err, address, family) => {
      if (err) return callback(err, address, family);
      const list = Array.isArray(address) ? address.map((a) => a.address) : [address];
      for (const a of list) {
        const refusal = addressRefusal(policy, a, hostname);
        if (refusal) return callback(new BlockedError(refusal), address, family);
      }
      callback(null, address, family);
    });
  };
}
