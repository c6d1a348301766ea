/**
 * A machine's IPv4 addresses as `ip -4 -o addr show` prints them, one line per address:
 *   2: eth0    inet 10.220.1.1/24 brd 10.220.1.255 scope global eth0\       valid_lft forever ...
 */
import { parseIpv4Prefix, splitLines, type Ipv4Prefix } from "./common.js";

export interface InterfaceAddress {
  /** The interface's name ("eth0"; a veth's "@ifN" suffix dropped). */
  ifname: string;
  address: string;
  /** The network the address is on, e.g. 10.220.1.0/24. */
  network: Ipv4Prefix;
}

/** Reads `ip -4 -o addr show`; lines that are not an IPv4 address are skipped. */
export function parseIpAddrOneline(text: string): InterfaceAddress[] {
  const out: InterfaceAddress[] = [];
  for (const line of splitLines(typeof text === "string" ? text : "").slice(0, 4096)) {
    const match = /^\d+:\s+([^\s@]+)(?:@\S+)?\s+inet\s+(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})\b/.exec(line);
    if (!match) continue;
    const network = parseIpv4Prefix(`${match[2] as string}/${match[3] as string}`);
    if (network) out.push({ ifname: match[1] as string, address: match[2] as string, network });
  }
  return out;
}
