/**
 * keepalived -t (config test): what keepalived itself says of its configuration.
 */

import { splitLines } from "./common.js";

export interface KeepalivedConfigMessage {
  file?: string;
  line?: number;
  message: string;
}

export interface KeepalivedConfigtest {
  /** Distinct messages in order; keepalived repeats each one per child process. */
  messages: KeepalivedConfigMessage[];
}

/**
 * Reads what `keepalived -t -l` prints: "(FILE: Line N) message", "(Line N) message" or a
 * bare message. `keepalived -t` exits 0 when the configuration is clean and non-zero
 * (5 in 2.2.7) for any error or warning, so the exit status decides validity.
 */
export function parseKeepalivedConfigtest(output: string): KeepalivedConfigtest {
  const seen = new Set<string>();
  const messages: KeepalivedConfigMessage[] = [];
  for (const raw of splitLines(typeof output === "string" ? output : "")) {
    const text = raw.replace(/^.*?Keepalived_\w+\[\d+\]:\s*/, "").trim();
    if (text === "") continue;
    const match = /^\((?:(.+?):\s*)?Line (\d+)\)\s*(.*)$/.exec(text);
    const entry: KeepalivedConfigMessage = match ? { line: Number(match[2]), message: (match[3] as string).trim() } : { message: text };
    if (match?.[1] !== undefined) entry.file = match[1];
    // The same message comes with and without the file name; keep the fuller one.
    const key = `${entry.line ?? ""}\u0000${entry.message}`;
    if (seen.has(key)) {
      const earlier = messages.find((message) => message.line === entry.line && message.message === entry.message);
      if (earlier && earlier.file === undefined && entry.file !== undefined) earlier.file = entry.file;
      continue;
    }
    seen.add(key);
    messages.push(entry);
  }
  return { messages };
}
