/**
 * Small shared pieces of the inspect parsers: line splitting, problems, addresses, globs.
 * Every parser here takes text that came back over SSH and must never throw on it:
 * odd input becomes a `problems` entry or an `unparsed` line, never an exception.
 */

/** Something a parser noticed that a check may want to tell the student. */
export interface InspectProblem {
  /** Stable identifier a check can map to a bilingual message (e.g. "stray-parameter-line"). */
  code: string;
  /** What was seen and what was expected, in English, quoting the offending text. */
  message: string;
  /** "error": the program itself would reject or misread it; "warning": accepted but suspicious. */
  severity: "error" | "warning";
  file?: string;
  /** 1-based line number in `file` (or in the parsed text when there is no file). */
  line?: number;
  /** Last line of the block the problem is about, when it spans several lines. */
  endLine?: number;
  /** The offending line as written. */
  text?: string;
}

/** A line of input that no rule of the parser recognised, kept as evidence. */
export interface UnparsedLine {
  line: number;
  text: string;
}

/** Where a piece of configuration was read: file and 1-based line. */
export interface SourceRef {
  file: string;
  line: number;
}

/**
 * Splits command output into lines: CRLF and lone CR (output captured through a pty or
 * from a Windows editor) both end a line; a trailing newline does not add an empty line.
 */
export function splitLines(text: string): string[] {
  if (typeof text !== "string" || text.length === 0) return [];
  const lines = text.replace(/^\uFEFF/, "").split(/\r\n|\r|\n/);
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

export function asText(input: unknown): string {
  if (typeof input === "string") return input;
  if (input instanceof Uint8Array) return Buffer.from(input).toString("utf8");
  return "";
}

/** Parses a non-negative decimal integer; anything else (signs, units, blanks) is undefined. */
export function parseUnsigned(token: string | undefined): number | undefined {
  if (token === undefined || !/^\d+$/.test(token)) return undefined;
  const value = Number(token);
  return Number.isSafeInteger(value) ? value : undefined;
}

/** Parses a non-negative decimal number such as keepalived's "3" or "1.5" seconds. */
export function parseDecimal(token: string | undefined): number | undefined {
  if (token === undefined || !/^\d+(?:\.\d+)?$/.test(token)) return undefined;
  const value = Number(token);
  return Number.isFinite(value) ? value : undefined;
}

/**
 * A JSON value from the machine under test, written back as at most `maxChars` characters of
 * evidence. A value nested thousands of levels deep (JSON.parse reads it, JSON.stringify would
 * overflow the stack on it) is said to be so rather than thrown at the grader.
 */
export function jsonExcerpt(value: unknown, maxChars = 200): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    return "(a JSON value nested too deep to show)";
  }
  return text.length > maxChars ? `${text.slice(0, maxChars)}…` : text;
}

// ---------------------------------------------------------------------------------------
// IPv4 addresses and prefixes

export interface Ipv4Prefix {
  /** Network address as an unsigned 32-bit number. */
  network: number;
  length: number;
}

export function parseIpv4(text: string): number | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text.trim());
  if (!match) return undefined;
  let value = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(match[i]);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

export function isIpv4(text: string): boolean {
  return parseIpv4(text) !== undefined;
}

/** A loose IPv6 syntax test: hex groups and colons, optionally an embedded IPv4 tail. */
export function isIpv6(text: string): boolean {
  const value = text.trim();
  if (!value.includes(":") || !/^[0-9A-Fa-f:.]+$/.test(value)) return false;
  const doubleColons = value.split("::").length - 1;
  if (doubleColons > 1) return false;
  const groups = value.split(":").filter((group) => group !== "");
  if (groups.length > 8 || (doubleColons === 0 && groups.length < 3)) return false;
  return groups.every((group, index) =>
    /^[0-9A-Fa-f]{1,4}$/.test(group) || (index === groups.length - 1 && isIpv4(group)),
  );
}

function maskOf(length: number): number {
  return length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
}

/** "10.221.1.0/24", "10.221.1.7" (a /32) or "10.221.1.0/255.255.255.0". */
export function parseIpv4Prefix(text: string): Ipv4Prefix | undefined {
  const [addressText, lengthText, ...rest] = text.trim().split("/");
  if (addressText === undefined || rest.length > 0) return undefined;
  const address = parseIpv4(addressText);
  if (address === undefined) return undefined;
  let length = 32;
  if (lengthText !== undefined) {
    const asNumber = parseUnsigned(lengthText);
    if (asNumber !== undefined) {
      if (asNumber > 32) return undefined;
      length = asNumber;
    } else {
      const mask = parseIpv4(lengthText);
      if (mask === undefined) return undefined;
      const bits = mask.toString(2).padStart(32, "0");
      if (!/^1*0*$/.test(bits)) return undefined;
      length = bits.indexOf("0") === -1 ? 32 : bits.indexOf("0");
    }
  }
  return { network: (address & maskOf(length)) >>> 0, length };
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join(".");
}

export function formatIpv4Prefix(prefix: Ipv4Prefix): string {
  return `${formatIpv4(prefix.network)}/${prefix.length}`;
}

/** True when every address of `inner` is inside `outer`. */
export function prefixContains(outer: Ipv4Prefix, inner: Ipv4Prefix): boolean {
  if (outer.length > inner.length) return false;
  return ((inner.network & maskOf(outer.length)) >>> 0) === outer.network;
}

export function prefixesOverlap(a: Ipv4Prefix, b: Ipv4Prefix): boolean {
  return prefixContains(a, b) || prefixContains(b, a);
}

// ---------------------------------------------------------------------------------------
// Globs for Include / include

type GlobToken =
  | { kind: "char"; char: string }
  | { kind: "any" }
  | { kind: "star" }
  | { kind: "class"; negated: boolean; ranges: [string, string][] };

function globSegmentTokens(segment: string): GlobToken[] {
  const tokens: GlobToken[] = [];
  for (let i = 0; i < segment.length; i++) {
    const char = segment[i] as string;
    if (char === "*") {
      // Consecutive stars match what one star matches.
      if (tokens[tokens.length - 1]?.kind !== "star") tokens.push({ kind: "star" });
    } else if (char === "?") tokens.push({ kind: "any" });
    else if (char === "[") {
      const close = segment.indexOf("]", i + 2);
      if (close === -1) tokens.push({ kind: "char", char });
      else {
        let set = segment.slice(i + 1, close);
        const negated = set.startsWith("!") || set.startsWith("^");
        if (negated) set = set.slice(1);
        const ranges: [string, string][] = [];
        for (let k = 0; k < set.length; k++) {
          const from = set[k] as string;
          if (set[k + 1] === "-" && k + 2 < set.length) {
            ranges.push([from, set[k + 2] as string]);
            k += 2;
          } else ranges.push([from, from]);
        }
        tokens.push({ kind: "class", negated, ranges });
        i = close;
      }
    } else tokens.push({ kind: "char", char });
  }
  return tokens;
}

function globTokenMatches(token: GlobToken, char: string): boolean {
  if (token.kind === "any") return true;
  if (token.kind === "char") return token.char === char;
  if (token.kind === "class") {
    const inside = token.ranges.some(([from, to]) => from <= char && char <= to);
    return inside !== token.negated;
  }
  return false;
}

/**
 * Matches one path segment against a glob's tokens without backtracking: the classic
 * two-pointer walk that only ever resumes from the last star, so a pattern of m tokens
 * over a segment of n characters costs at most n×m steps, whatever the student wrote.
 */
function globSegmentMatches(tokens: readonly GlobToken[], text: string): boolean {
  let t = 0;
  let c = 0;
  let starToken = -1;
  let starChar = 0;
  while (c < text.length) {
    const token = tokens[t];
    if (token !== undefined && token.kind === "star") {
      starToken = t++;
      starChar = c;
    } else if (token !== undefined && globTokenMatches(token, text[c] as string)) {
      t++;
      c++;
    } else if (starToken >= 0) {
      t = starToken + 1;
      c = ++starChar;
    } else return false;
  }
  while (tokens[t]?.kind === "star") t++;
  return t === tokens.length;
}

/** A compiled shell glob (`*`, `?`, `[...]`) over whole paths. */
export interface GlobMatcher {
  test(path: string): boolean;
}

/**
 * Compiles a shell glob over whole paths; like glob(3), wildcards never match a "/".
 * Matching takes time linear in the path times the pattern, never exponential: a student's
 * `Include` line with dozens of stars cannot stall the grader (no regular expression here).
 */
export function compileGlob(pattern: string): GlobMatcher {
  const segments = pattern.split("/").map(globSegmentTokens);
  return {
    test(path: string): boolean {
      const parts = path.split("/");
      if (parts.length !== segments.length) return false;
      return segments.every((tokens, index) => globSegmentMatches(tokens, parts[index] as string));
    },
  };
}

export function hasGlob(pattern: string): boolean {
  return /[*?[]/.test(pattern);
}

/** Joins a relative path onto a directory the POSIX way; absolute paths pass through. */
export function resolvePosix(base: string | undefined, path: string): string {
  if (path.startsWith("/") || base === undefined || base === "") return normalisePosix(path);
  return normalisePosix(`${base.replace(/\/+$/, "")}/${path}`);
}

function normalisePosix(path: string): string {
  const absolute = path.startsWith("/");
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (parts.length > 0 && parts[parts.length - 1] !== "..") parts.pop();
      else if (!absolute) parts.push("..");
      continue;
    }
    parts.push(part);
  }
  return (absolute ? "/" : "") + parts.join("/");
}

export function dirnamePosix(path: string): string {
  const index = path.lastIndexOf("/");
  if (index < 0) return ".";
  if (index === 0) return "/";
  return path.slice(0, index);
}

/** A file fetched from the machine under test (typically with `cat` over SSH). */
export interface FetchedFile {
  path: string;
  text: string;
}

/**
 * Resolves an include pattern against files already fetched from the machine: the SSH
 * layer reads the candidate directories first, then parsing is synchronous and pure.
 * Matches come back sorted, as glob(3) returns them to Apache and keepalived.
 */
export function matchFetchedFiles(files: readonly FetchedFile[], absolutePattern: string): FetchedFile[] {
  if (!hasGlob(absolutePattern)) return files.filter((file) => file.path === absolutePattern);
  const glob = compileGlob(absolutePattern);
  return files
    .filter((file) => glob.test(file.path))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
