/**
 * A reader of iptables rules: `iptables-save` and `iptables -S`.
 */

import { splitLines, type InspectProblem, type UnparsedLine } from "./common.js";
import { finishRuleset, type FirewallChain, type FirewallRule, type FirewallRuleset } from "./firewall-model.js";

const IPTABLES_HOOKS: Record<string, string> = {
  PREROUTING: "prerouting",
  INPUT: "input",
  FORWARD: "forward",
  OUTPUT: "output",
  POSTROUTING: "postrouting",
};
// ---- iptables-save / iptables -S ------------------------------------------------------

function shellWords(text: string): string[] {
  const words: string[] = [];
  const regex = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  let match: RegExpExecArray | null;
  while ((match = regex.exec(text)) !== null) words.push(match[1] ?? match[2] ?? (match[3] as string));
  return words;
}

function iptablesChainTable(chain: string, explicitTable: string | undefined, target: string | undefined): string {
  if (explicitTable) return explicitTable;
  if (target === "MASQUERADE" || target === "SNAT" || target === "DNAT" || chain === "PREROUTING" || chain === "POSTROUTING") return "nat";
  return "filter";
}

/**
 * Reads `iptables-save [-t nat]`, `iptables -t nat -S` and `iptables -S FORWARD` output.
 * `-S` prints no "*table" line: pass `table` when known; otherwise a listing with the
 * PREROUTING/POSTROUTING chains and no FORWARD chain is taken as the nat table.
 */
export function parseIptables(text: string, options: { table?: string } = {}): FirewallRuleset {
  const chains = new Map<string, FirewallChain>();
  const unparsed: UnparsedLine[] = [];
  const problems: InspectProblem[] = [];
  const input = typeof text === "string" ? text : "";
  const looksNat = !/^\*/m.test(input) && /^-[PA]\s+(PRE|POST)ROUTING\b/m.test(input) && !/^-[PA]\s+FORWARD\b/m.test(input);
  let table: string | undefined = options.table ?? (looksNat ? "nat" : undefined);
  const chainOf = (tableName: string, name: string): FirewallChain => {
    const key = `${tableName}\u0000${name}`;
    let chain = chains.get(key);
    if (!chain) {
      chain = { family: "ip", table: tableName, name, type: tableName, rules: [] };
      const hook = IPTABLES_HOOKS[name];
      if (hook) chain.hook = hook;
      chains.set(key, chain);
    }
    return chain;
  };
  splitLines(input).forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === "" || trimmed.startsWith("#") || trimmed === "COMMIT") return;
    let match: RegExpExecArray | null;
    if ((match = /^\*(\S+)$/.exec(trimmed))) {
      table = match[1] as string;
      return;
    }
    if ((match = /^:(\S+)\s+(\S+)/.exec(trimmed))) {
      const chain = chainOf(table ?? iptablesChainTable(match[1] as string, undefined, undefined), match[1] as string);
      chain.line = line;
      if (match[2] !== "-") chain.policy = (match[2] as string).toLowerCase();
      return;
    }
    if ((match = /^-P\s+(\S+)\s+(\S+)$/.exec(trimmed))) {
      const chain = chainOf(table ?? iptablesChainTable(match[1] as string, undefined, undefined), match[1] as string);
      chain.policy = (match[2] as string).toLowerCase();
      chain.line ??= line;
      return;
    }
    if ((match = /^-N\s+(\S+)$/.exec(trimmed))) {
      chainOf(table ?? "filter", match[1] as string).line = line;
      return;
    }
    if (/^-[AI]\s/.test(trimmed)) {
      const words = shellWords(trimmed);
      const chainName = words[1] ?? "";
      const targetIndex = words.findIndex((word) => word === "-j" || word === "--jump" || word === "-g" || word === "--goto");
      const target = targetIndex >= 0 ? words[targetIndex + 1] : undefined;
      const chain = chainOf(table ?? iptablesChainTable(chainName, undefined, target), chainName);
      chain.rules.push(iptablesRule(chain, words.slice(2), trimmed, line));
      return;
    }
    unparsed.push({ line, text: raw });
  });
  return finishRuleset("iptables", [...chains.values()], problems, unparsed);
}

function iptablesRule(chain: FirewallChain, words: string[], text: string, line: number): FirewallRule {
  const rule: FirewallRule = { family: chain.family, table: chain.table, chain: chain.name, text, line };
  let negateNext = false;
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as string;
    if (word === "!") {
      negateNext = true;
      continue;
    }
    const takeValue = (): { value: string; negated: boolean } => {
      let negated = negateNext;
      let value = words[i + 1] ?? "";
      i++;
      // Old iptables wrote the negation after the option: "-o ! eth1".
      if (value === "!") {
        negated = true;
        value = words[i + 1] ?? "";
        i++;
      }
      return { value, negated };
    };
    switch (word) {
      case "-s":
      case "--source":
      case "--src": {
        const { value, negated } = takeValue();
        rule.saddr = { values: value.split(","), negated };
        break;
      }
      case "-d":
      case "--destination":
      case "--dst": {
        const { value, negated } = takeValue();
        rule.daddr = { values: value.split(","), negated };
        break;
      }
      case "-o":
      case "--out-interface": {
        const { value, negated } = takeValue();
        rule.oifname = { names: [value], negated };
        break;
      }
      case "-i":
      case "--in-interface": {
        const { value, negated } = takeValue();
        rule.iifname = { names: [value], negated };
        break;
      }
      case "-j":
      case "--jump":
      case "-g":
      case "--goto": {
        const target = words[i + 1] ?? "";
        i++;
        const upper = target.toUpperCase();
        if (upper === "ACCEPT") rule.verdict = "accept";
        else if (upper === "DROP") rule.verdict = "drop";
        else if (upper === "REJECT") rule.verdict = "reject";
        else if (upper === "MASQUERADE") rule.verdict = "masquerade";
        else if (upper === "SNAT") rule.verdict = "snat";
        else if (upper === "DNAT") rule.verdict = "dnat";
        else if (upper === "REDIRECT") rule.verdict = "redirect";
        else if (upper === "RETURN") rule.verdict = "return";
        else if (upper === "LOG") rule.verdict = "log";
        else if (upper === "NFQUEUE" || upper === "QUEUE") rule.verdict = "queue";
        else {
          rule.verdict = word === "-g" || word === "--goto" ? "goto" : "jump";
          rule.target = target;
        }
        break;
      }
      case "--to-source":
      case "--to-destination":
      case "--to":
        rule.target = words[i + 1];
        i++;
        break;
      default:
        break;
    }
    negateNext = false;
  }
  return rule;
}
