/**
 * The model of a firewall ruleset the lab grades, whatever wrote it (nftables JSON or text,
 * iptables): chains and rules, and the NAT rules and FORWARD filters drawn from them.
 */

import { type InspectProblem, type UnparsedLine } from "./common.js";

// =======================================================================================
// Firewall: NAT (masquerade / snat) and FORWARD filtering

export type FirewallFormat = "nft-json" | "nft-text" | "iptables" | "empty" | "unknown";

export interface AddressMatch {
  /** Prefixes or addresses as written ("10.221.1.0/24"); several for a set. */
  values: string[];
  negated: boolean;
}

export interface InterfaceMatch {
  names: string[];
  negated: boolean;
}

export type RuleVerdict =
  | "accept" | "drop" | "reject" | "masquerade" | "snat" | "dnat" | "redirect"
  | "jump" | "goto" | "return" | "queue" | "log" | "other";

export interface FirewallRule {
  family: string;
  table: string;
  chain: string;
  verdict?: RuleVerdict;
  /** jump/goto target, SNAT/DNAT address. */
  target?: string;
  saddr?: AddressMatch;
  daddr?: AddressMatch;
  iifname?: InterfaceMatch;
  oifname?: InterfaceMatch;
  /** The rule as written (nft text or iptables line), or rebuilt from JSON. */
  text: string;
  line?: number;
}

export interface FirewallChain {
  family: string;
  table: string;
  name: string;
  /** nftables hook, or the iptables built-in chain it stands for (prerouting, postrouting, forward ...). */
  hook?: string;
  /** nftables chain type (filter, nat, route); iptables: the table name. */
  type?: string;
  policy?: string;
  rules: FirewallRule[];
  line?: number;
}

export interface NatRule extends FirewallRule {
  kind: "masquerade" | "snat";
  hook?: string;
}

export interface ForwardFilter {
  family: string;
  table: string;
  chain: string;
  /** "drop" blocks every forwarded packet no rule accepts (the balancer routes nothing new). */
  policy?: string;
  dropRules: FirewallRule[];
  rejectRules: FirewallRule[];
  /** True when the policy is drop or some rule drops/rejects: the lab asks for no filtering. */
  filters: boolean;
}

export interface FirewallRuleset {
  format: FirewallFormat;
  chains: FirewallChain[];
  natRules: NatRule[];
  forwardFilters: ForwardFilter[];
  problems: InspectProblem[];
  unparsed: UnparsedLine[];
}
/** Draws the NAT rules and FORWARD filters out of the chains a reader found. */
export function finishRuleset(format: FirewallFormat, chains: FirewallChain[], problems: InspectProblem[], unparsed: UnparsedLine[]): FirewallRuleset {
  const natRules: NatRule[] = [];
  const forwardFilters: ForwardFilter[] = [];
  for (const chain of chains) {
    for (const rule of chain.rules) {
      if (rule.verdict === "masquerade" || rule.verdict === "snat") {
        const nat: NatRule = { ...rule, kind: rule.verdict };
        if (chain.hook !== undefined) nat.hook = chain.hook;
        natRules.push(nat);
      }
    }
    const isFilterType = chain.type === undefined || chain.type === "filter";
    if (chain.hook === "forward" && isFilterType) {
      const dropRules = chain.rules.filter((rule) => rule.verdict === "drop");
      const rejectRules = chain.rules.filter((rule) => rule.verdict === "reject");
      const filter: ForwardFilter = {
        family: chain.family,
        table: chain.table,
        chain: chain.name,
        dropRules,
        rejectRules,
        filters: (chain.policy ?? "").toLowerCase() === "drop" || dropRules.length > 0 || rejectRules.length > 0,
      };
      if (chain.policy !== undefined) filter.policy = chain.policy.toLowerCase();
      forwardFilters.push(filter);
    }
  }
  return { format, chains, natRules, forwardFilters, problems, unparsed };
}
