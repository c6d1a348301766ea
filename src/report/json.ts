import type { RunResult } from "../model/index.js";
import type { Since } from "./overview.js";
import { writeReport } from "./output.js";
import type { Reporter } from "./reporter.js";

/**
 * The full result with evidence, versioned so it can be re-rendered or re-graded later; to a file
 * or, with the path `-`, to standard output. With `since`, the comparison with an earlier result
 * rides along as a `since` field, which readers of the result ignore.
 */
export function jsonReporter(path: string, redact: (text: string) => string = (t) => t, since?: Since): Reporter {
  return {
    onEnd: (result: RunResult) => writeReport(path, JSON.stringify(redactStrings(since ? { ...result, since } : result, redact), null, 2) + "\n"),
  };
}

/**
 * A copy of JSON data with `redact` applied to every string value and key, never to the JSON
 * text itself: a secret that also spells a number, a date or a quote cannot break the file.
 */
export function redactStrings<T>(value: T, redact: (text: string) => string): T {
  const walk = (item: unknown, depth: number): unknown => {
    if (typeof item === "string") return redact(item);
    if (item === null || typeof item !== "object" || depth > 200) return item;
    if (Array.isArray(item)) return item.map((entry) => walk(entry, depth + 1));
    const plain = (item as { toJSON?: () => unknown }).toJSON;
    if (typeof plain === "function") return walk(plain.call(item), depth + 1);
    const out: Record<string, unknown> = {};
    for (const [key, entry] of Object.entries(item)) out[redact(key)] = walk(entry, depth + 1);
    return out;
  };
  return walk(value, 0) as T;
}
