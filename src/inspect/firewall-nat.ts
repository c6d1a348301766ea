/**
 * Judgement on a ruleset: does its NAT cover the server network's traffic out of the balancer?
 */

import { formatIpv4Prefix, parseIpv4Prefix, prefixContains, prefixesOverlap } from "./common.js";
import { type FirewallRuleset, type NatRule } from "./firewall-model.js";

// ---- does the NAT cover the server network? -------------------------------------------

export interface NatCoverage {
  covered: boolean;
  /** The first rule that covers the network. */
  by?: NatRule;
  /** Why not, when not covered. */
  reason?: string;
}

/** Shell-style interface names of iptables ("eth+") and nft ("eth*") match by prefix. */
function interfaceMatches(pattern: string, name: string): boolean {
  if (pattern.endsWith("+") || pattern.endsWith("*")) return name.startsWith(pattern.slice(0, -1));
  return pattern === name;
}

/**
 * Whether a masquerade/SNAT rule translates packets from `sourceNetwork` (the server
 * network, e.g. "10.221.1.0/24"): a rule with no source match covers it, as does a source
 * prefix containing it; a negated source match covers it when it does not overlap.
 * With `outInterface`, the rule's output interface match must let that interface through.
 */
export function natCovers(
  rules: readonly NatRule[] | FirewallRuleset,
  sourceNetwork: string,
  options: { outInterface?: string } = {},
): NatCoverage {
  const list = Array.isArray(rules) ? (rules as readonly NatRule[]) : (rules as FirewallRuleset).natRules;
  const network = parseIpv4Prefix(sourceNetwork);
  if (!network) return { covered: false, reason: `"${sourceNetwork}" is not an IPv4 network such as 10.221.1.0/24.` };
  if (list.length === 0) return { covered: false, reason: "There is no masquerade or SNAT rule." };
  const reasons: string[] = [];
  for (const rule of list) {
    if (rule.family === "ip6" || rule.family === "bridge" || rule.family === "arp") {
      reasons.push(`${rule.text}: only for ${rule.family}`);
      continue;
    }
    if (rule.hook !== undefined && rule.hook !== "postrouting") {
      reasons.push(`${rule.text}: in the ${rule.hook} hook, not postrouting`);
      continue;
    }
    if (rule.saddr) {
      const prefixes = rule.saddr.values.map((value) => parseIpv4Prefix(value));
      const valid = prefixes.filter((prefix): prefix is NonNullable<typeof prefix> => prefix !== undefined);
      const matches = rule.saddr.negated
        ? valid.length === prefixes.length && !valid.some((prefix) => prefixesOverlap(prefix, network))
        : valid.some((prefix) => prefixContains(prefix, network));
      if (!matches) {
        reasons.push(`${rule.text}: source ${rule.saddr.negated ? "!= " : ""}${rule.saddr.values.join(",")} does not include ${formatIpv4Prefix(network)}`);
        continue;
      }
    }
    if (options.outInterface !== undefined && rule.oifname) {
      const out = options.outInterface;
      const any = rule.oifname.names.some((name) => interfaceMatches(name, out));
      if (rule.oifname.negated ? any : !any) {
        reasons.push(`${rule.text}: output interface ${rule.oifname.negated ? "!= " : ""}${rule.oifname.names.join(",")} excludes ${out}`);
        continue;
      }
    }
    return { covered: true, by: rule };
  }
  return { covered: false, reason: reasons.join("; ") };
}
