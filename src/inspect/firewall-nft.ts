/**
 * Readers of nftables rulesets: `nft -j list ruleset` (JSON) and `nft list ruleset` (text).
 */

import { jsonExcerpt, splitLines, type InspectProblem, type UnparsedLine } from "./common.js";
import {
  finishRuleset,
  type FirewallChain,
  type FirewallRule,
  type FirewallRuleset,
  type RuleVerdict,
} from "./firewall-model.js";

// ---- nftables JSON ---------------------------------------------------------------------

function jsonAddressValues(right: unknown): string[] {
  if (typeof right === "string") return [right];
  if (typeof right !== "object" || right === null) return [];
  const value = right as Record<string, unknown>;
  if (value.prefix && typeof value.prefix === "object") {
    const prefix = value.prefix as Record<string, unknown>;
    return [`${String(prefix.addr)}/${String(prefix.len)}`];
  }
  if (Array.isArray(value.range)) return [`${String(value.range[0])}-${String(value.range[1])}`];
  if (Array.isArray(value.set)) return value.set.flatMap((item) => jsonAddressValues(item));
  return [];
}

function jsonNames(right: unknown): string[] {
  if (typeof right === "string") return [right];
  if (typeof right === "object" && right !== null && Array.isArray((right as { set?: unknown }).set)) {
    return ((right as { set: unknown[] }).set).filter((item): item is string => typeof item === "string");
  }
  return [];
}

export function parseNftJson(text: string): FirewallRuleset {
  let document: unknown;
  try {
    document = JSON.parse(typeof text === "string" ? text : "");
  } catch {
    return finishRuleset(
      "nft-json",
      [],
      [{ code: "nft-json-invalid", severity: "error", message: "The output of `nft -j list ruleset` is not valid JSON (cut short, or an error message?)." }],
      [],
    );
  }
  const items = (document as { nftables?: unknown }).nftables;
  if (!Array.isArray(items)) {
    return finishRuleset("nft-json", [], [{ code: "nft-json-invalid", severity: "error", message: 'The JSON has no "nftables" array.' }], []);
  }
  const chains = new Map<string, FirewallChain>();
  const chainOf = (family: string, table: string, name: string): FirewallChain => {
    const key = `${family}\u0000${table}\u0000${name}`;
    let chain = chains.get(key);
    if (!chain) {
      chain = { family, table, name, rules: [] };
      chains.set(key, chain);
    }
    return chain;
  };
  for (const item of items) {
    if (typeof item !== "object" || item === null) continue;
    const record = item as Record<string, unknown>;
    if (record.chain && typeof record.chain === "object") {
      const raw = record.chain as Record<string, unknown>;
      const chain = chainOf(String(raw.family), String(raw.table), String(raw.name));
      if (typeof raw.hook === "string") chain.hook = raw.hook;
      if (typeof raw.type === "string") chain.type = raw.type;
      if (typeof raw.policy === "string") chain.policy = raw.policy;
    }
    if (record.rule && typeof record.rule === "object") {
      const raw = record.rule as Record<string, unknown>;
      const chain = chainOf(String(raw.family), String(raw.table), String(raw.chain));
      chain.rules.push(ruleFromJson(chain, Array.isArray(raw.expr) ? raw.expr : []));
    }
  }
  return finishRuleset("nft-json", [...chains.values()], [], []);
}

function ruleFromJson(chain: FirewallChain, expressions: unknown[]): FirewallRule {
  const rule: FirewallRule = { family: chain.family, table: chain.table, chain: chain.name, text: "" };
  const words: string[] = [];
  for (const expression of expressions) {
    if (typeof expression !== "object" || expression === null) continue;
    const [kind, body] = Object.entries(expression as Record<string, unknown>)[0] ?? [];
    if (kind === undefined) continue;
    if (kind === "match" && typeof body === "object" && body !== null) {
      const match = body as { op?: string; left?: Record<string, unknown>; right?: unknown };
      const negated = match.op === "!=";
      const left = match.left ?? {};
      const payload = left.payload as { protocol?: string; field?: string } | undefined;
      const meta = left.meta as { key?: string } | undefined;
      if (payload && (payload.field === "saddr" || payload.field === "daddr") && (payload.protocol === "ip" || payload.protocol === "ip6")) {
        const values = jsonAddressValues(match.right);
        rule[payload.field] = { values, negated };
        words.push(`${payload.protocol} ${payload.field} ${negated ? "!= " : ""}${values.join(", ")}`);
      } else if (meta && (meta.key === "oifname" || meta.key === "iifname" || meta.key === "oif" || meta.key === "iif")) {
        const names = jsonNames(match.right);
        rule[meta.key.startsWith("o") ? "oifname" : "iifname"] = { names, negated };
        words.push(`${meta.key} ${negated ? "!= " : ""}"${names.join('", "')}"`);
      } else words.push(jsonExcerpt(match));
      continue;
    }
    switch (kind) {
      case "accept":
      case "drop":
      case "reject":
      case "masquerade":
      case "return":
      case "queue":
      case "redirect":
        rule.verdict = kind;
        words.push(kind);
        break;
      case "snat":
      case "dnat": {
        rule.verdict = kind;
        const address = (body as { addr?: unknown } | null)?.addr;
        if (typeof address === "string") rule.target = address;
        words.push(`${kind}${rule.target ? ` to ${rule.target}` : ""}`);
        break;
      }
      case "jump":
      case "goto": {
        rule.verdict = kind;
        const target = (body as { target?: unknown } | null)?.target;
        if (typeof target === "string") rule.target = target;
        words.push(`${kind} ${rule.target ?? ""}`.trim());
        break;
      }
      case "xt": {
        // iptables-nft rules whose target nft cannot translate show up as "xt" (no details).
        const name = String((body as { name?: unknown } | null)?.name ?? "");
        const verdict = name.toUpperCase() === "MASQUERADE" ? "masquerade" : name.toUpperCase() === "SNAT" ? "snat" : name.toUpperCase() === "DNAT" ? "dnat" : name.toUpperCase() === "REJECT" ? "reject" : undefined;
        if (verdict) rule.verdict = verdict;
        else if (!rule.verdict) rule.verdict = "other";
        words.push(`xt ${name}`);
        break;
      }
      case "counter":
        words.push("counter");
        break;
      case "log":
        rule.verdict ??= "log";
        words.push("log");
        break;
      default:
        words.push(kind);
    }
  }
  rule.text = words.join(" ");
  return rule;
}

// ---- nftables text ---------------------------------------------------------------------

function nftSetOrValue(rest: string): { values: string[]; length: number } {
  const trimmed = rest.trimStart();
  const offset = rest.length - trimmed.length;
  if (trimmed.startsWith("{")) {
    const close = trimmed.indexOf("}");
    const body = close >= 0 ? trimmed.slice(1, close) : trimmed.slice(1);
    return { values: body.split(",").map((value) => value.trim().replace(/^"|"$/g, "")).filter((value) => value !== ""), length: offset + (close >= 0 ? close + 1 : trimmed.length) };
  }
  const word = /^("[^"]*"|\S+)/.exec(trimmed);
  const value = word ? (word[1] as string) : "";
  return { values: value === "" ? [] : [value.replace(/^"|"$/g, "")], length: offset + value.length };
}

function nftRuleFromText(chain: FirewallChain, text: string, line: number): FirewallRule {
  const rule: FirewallRule = { family: chain.family, table: chain.table, chain: chain.name, text: text.trim(), line };
  const body = text.trim();
  const matchers: Array<[RegExp, "saddr" | "daddr" | "oifname" | "iifname"]> = [
    [/\bip6? saddr\s+(!=\s*)?/g, "saddr"],
    [/\bip6? daddr\s+(!=\s*)?/g, "daddr"],
    [/\boif(?:name)?\s+(!=\s*)?/g, "oifname"],
    [/\biif(?:name)?\s+(!=\s*)?/g, "iifname"],
  ];
  for (const [regex, field] of matchers) {
    const match = regex.exec(body);
    if (!match) continue;
    const { values } = nftSetOrValue(body.slice(match.index + match[0].length));
    const negated = match[1] !== undefined;
    if (field === "saddr" || field === "daddr") rule[field] = { values, negated };
    else rule[field] = { names: values, negated };
  }
  const verdict = /\b(masquerade|snat|dnat|redirect|accept|drop|reject|return|queue|jump|goto)\b(?:\s+(?:ip6?\s+)?(?:to\s+)?(\S+))?/.exec(
    body.replace(/\bct state [^ ]+/, "").replace(/"[^"]*"/g, '""'),
  );
  if (verdict) {
    rule.verdict = verdict[1] as RuleVerdict;
    if ((rule.verdict === "snat" || rule.verdict === "dnat" || rule.verdict === "jump" || rule.verdict === "goto") && verdict[2]) {
      rule.target = verdict[2].replace(/;$/, "");
    }
  } else if (/\blog\b/.test(body)) rule.verdict = "log";
  return rule;
}

export function parseNftText(text: string): FirewallRuleset {
  const chains: FirewallChain[] = [];
  const problems: InspectProblem[] = [];
  const unparsed: UnparsedLine[] = [];
  let table: { family: string; name: string } | undefined;
  let chain: FirewallChain | undefined;
  /** Depth of blocks that are neither table nor chain (sets, maps, flowtables). */
  let otherDepth = 0;
  splitLines(typeof text === "string" ? text : "").forEach((raw, index) => {
    const line = index + 1;
    const text = raw.replace(/#.*$/, "").trim();
    if (text === "") return;
    if (otherDepth > 0) {
      otherDepth += (text.match(/\{/g) ?? []).length - (text.match(/\}/g) ?? []).length;
      return;
    }
    let match: RegExpExecArray | null;
    if ((match = /^table\s+(?:(ip|ip6|inet|arp|bridge|netdev)\s+)?(\S+)\s*\{$/.exec(text))) {
      table = { family: match[1] ?? "ip", name: match[2] as string };
      return;
    }
    if (table && !chain && (match = /^chain\s+(\S+)\s*\{$/.exec(text))) {
      chain = { family: table.family, table: table.name, name: match[1] as string, rules: [], line };
      chains.push(chain);
      return;
    }
    if (table && !chain && /^(set|map|flowtable|ct|counter|quota|limit|secmark|synproxy)\b.*\{$/.test(text)) {
      otherDepth = 1;
      return;
    }
    if (text === "}") {
      if (chain) chain = undefined;
      else if (table) table = undefined;
      else unparsed.push({ line, text: raw });
      return;
    }
    if (chain && (match = /^type\s+(\S+)\s+hook\s+(\S+)(?:\s+device\s+\S+)?\s+priority\s+[^;]+;(?:\s*policy\s+(\S+?);?)?\s*$/.exec(text))) {
      chain.type = match[1] as string;
      chain.hook = match[2] as string;
      if (match[3] !== undefined) chain.policy = match[3];
      return;
    }
    if (chain && (match = /^policy\s+(\S+?);?$/.exec(text))) {
      chain.policy = match[1] as string;
      return;
    }
    if (chain) {
      chain.rules.push(nftRuleFromText(chain, text, line));
      return;
    }
    unparsed.push({ line, text: raw });
  });
  if (table || chain) {
    problems.push({ code: "nft-text-truncated", severity: "warning", message: "The ruleset ends inside a table or chain block (output cut short?)." });
  }
  return finishRuleset("nft-text", chains, problems, unparsed);
}
