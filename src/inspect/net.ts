/**
 * Readers of the balancer's network set-up as SSH brings it back: IPv4 forwarding and the
 * routing table (routing.ts), NAT and FORWARD filtering (firewall*.ts: the model, the nftables
 * and iptables readers, and whether the NAT covers the server network), the distribution
 * (os-release.ts) and the process list (processes.ts: is keepalived running?).
 */

export {
  defaultRoute,
  parseIpForward,
  parseIpRoute,
  type IpForwarding,
  type RouteEntry,
  type RouteNexthop,
  type RouteTable,
} from "./routing.js";
export type {
  AddressMatch,
  FirewallChain,
  FirewallFormat,
  FirewallRule,
  FirewallRuleset,
  ForwardFilter,
  InterfaceMatch,
  NatRule,
  RuleVerdict,
} from "./firewall-model.js";
export { parseFirewall } from "./firewall.js";
export { parseNftJson, parseNftText } from "./firewall-nft.js";
export { parseIptables } from "./firewall-iptables.js";
export { natCovers, type NatCoverage } from "./firewall-nat.js";
export { parseOsRelease, type OsRelease } from "./os-release.js";
export { findProcesses, parseProcessList, type ProcessEntry, type ProcessList } from "./processes.js";
export { parseIpAddrOneline, type InterfaceAddress } from "./addresses.js";
