import { isIPv4 } from "node:net";

/**
 * Optional outer fence on where hagrade may send traffic: a comma-separated list of IPv4
 * networks in HAGRADE_ALLOWED_NETWORKS (e.g. "127.0.0.0/8,10.220.0.0/16"). The project's own
 * tests set it so that a mistake in a test can never reach an address outside the labs it built.
 * Unset, every address of the spec is allowed.
 */
export function scopeViolation(address: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const fence = env.HAGRADE_ALLOWED_NETWORKS?.trim();
  if (!fence) return null;
  const bare = address.replace(/^\[|\]$/g, "");
  if (!isIPv4(bare)) return `address ${bare.slice(0, 64)} is outside HAGRADE_ALLOWED_NETWORKS (${fence})`;
  const ip = toInt(bare);
  for (const network of fence.split(",")) {
    const [base, bitsText] = network.trim().split("/");
    if (!base || !isIPv4(base)) continue;
    const bits = bitsText === undefined ? 32 : Number(bitsText);
    if (!Number.isInteger(bits) || bits < 0 || bits > 32) continue;
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    if (((ip & mask) >>> 0) === ((toInt(base) & mask) >>> 0)) return null;
  }
  return `address ${bare} is outside HAGRADE_ALLOWED_NETWORKS (${fence})`;
}

function toInt(ip: string): number {
  return ip.split(".").reduce((acc, part) => ((acc << 8) | Number(part)) >>> 0, 0);
}
