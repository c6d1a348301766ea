import type { Identification, Identify } from "./types.js";

/** The lab asks each web server to show "Bienvenido a webserverX". */
export const DEFAULT_IDENTITY_PATTERN = /Bienvenido a webserver(\d+)/i;

/**
 * Pages are untrusted (a student's server may answer anything): only this much text is examined,
 * which also bounds the cost of a badly written regex.
 */
export const DEFAULT_MAX_EXAMINED_CHARS = 64 * 1024;

const MAX_LABEL_CAPTURE_CHARS = 32;

export interface BackendIdentity {
  /** The lab's name for the web server, e.g. "webserver1"; becomes the record's label. */
  name: string;
  /** The text the identity pattern captures on this server's page, e.g. "1". */
  identity: string;
  /** Recognises this server's page on its own; tried before the global pattern. */
  match?: RegExp;
}

export interface IdentifierOptions {
  pattern?: RegExp;
  backends?: readonly BackendIdentity[];
  maxExaminedChars?: number;
}

// A shared RegExp with g/y keeps lastIndex between calls and would skip matches.
function stateless(re: RegExp): RegExp {
  return new RegExp(re.source, re.flags.replace(/[gy]/g, ""));
}

/** Keeps a hostile capture from injecting markup or giant strings into labels and reports. */
export function sanitizeCapture(text: string): string {
  const cleaned = text
    .trim()
    .replace(/[^A-Za-z0-9._-]+/g, "_")
    .slice(0, MAX_LABEL_CAPTURE_CHARS);
  return cleaned === "" ? "_" : cleaned;
}

// Students sometimes wrap the server name in markup ("Bienvenido a <b>webserver1</b>").
function visibleText(html: string): string {
  return html
    .replace(/<[^<>]*>/g, " ")
    .replace(/&nbsp;/gi, " ")
    .replace(/\s+/g, " ");
}

function sameIdentity(captured: string, identity: string): boolean {
  const a = captured.trim();
  const b = identity.trim();
  if (a === b) return true;
  // "webserver01" is still web server 1.
  return /^\d+$/.test(a) && /^\d+$/.test(b) && Number(a) === Number(b);
}

/**
 * Builds the function that says which backend served a page: each backend's own `match` first,
 * then the global pattern, whose capture is looked up among the backends' identities.
 */
export function createIdentifier(options: IdentifierOptions = {}): Identify {
  const pattern = stateless(options.pattern ?? DEFAULT_IDENTITY_PATTERN);
  const backends = (options.backends ?? []).map((b) => ({
    name: b.name,
    identity: b.identity,
    match: b.match === undefined ? undefined : stateless(b.match),
  }));
  const maxChars = options.maxExaminedChars ?? DEFAULT_MAX_EXAMINED_CHARS;

  const identifyText = (text: string): Identification | null => {
    for (const b of backends) {
      if (b.match?.test(text)) return { backend: b.name, label: b.name };
    }
    const m = pattern.exec(text);
    if (m === null) return null;
    const captured = m[1] ?? m[0];
    const backend = backends.find((b) => sameIdentity(captured, b.identity));
    if (backend !== undefined) return { backend: backend.name, label: backend.name, captured };
    return { backend: null, label: `unknown:${sanitizeCapture(captured)}`, captured: captured.slice(0, 256) };
  };

  return (body: string): Identification => {
    const examined = body.length > maxChars ? body.slice(0, maxChars) : body;
    return identifyText(examined) ?? identifyText(visibleText(examined)) ?? { backend: null, label: "unidentified" };
  };
}
