/**
 * Reads whichever firewall ruleset a command printed (nftables JSON or text, iptables) into the
 * model of firewall-model.ts.
 */

import { splitLines } from "./common.js";
import { finishRuleset, type FirewallRuleset } from "./firewall-model.js";
import { parseIptables } from "./firewall-iptables.js";
import { parseNftJson, parseNftText } from "./firewall-nft.js";

/** Chooses the reader by the text's shape; pass the output of one command at a time. */
export function parseFirewall(text: string): FirewallRuleset {
  const input = typeof text === "string" ? text.trim() : "";
  if (input === "") return finishRuleset("empty", [], [], []);
  if (input.startsWith("{")) return parseNftJson(input);
  const firstLine = splitLines(input).find((line) => line.trim() !== "" && !line.trim().startsWith("#")) ?? "";
  if (/^(\*\w+|:\S+\s|-[APNI]\s)/.test(firstLine.trim())) return parseIptables(input);
  if (/^(table|flush|add|define|include)\b/.test(firstLine.trim())) return parseNftText(input);
  return finishRuleset("unknown", [], [], splitLines(input).map((line, index) => ({ line: index + 1, text: line })));
}
