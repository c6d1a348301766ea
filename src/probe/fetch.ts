import pRetry from "p-retry";
import type { ProbeClient } from "./client.js";
import { MAX_SET_COOKIES_PER_RESPONSE, MAX_SET_COOKIE_CHARS } from "./client.js";
import { capText } from "./errors.js";
import { ConnectionTracker, USER_AGENT, assertTarget, exchange, localAddressProblem, openClient, setCookieValues } from "./exchange.js";
import { resolveTimeouts } from "./sample.js";
import type { Identify, ProbeError, ProbeErrorClass, ProbeTarget, ProbeTimeouts } from "./types.js";

export const DEFAULT_FETCH_MAX_BODY_BYTES = 64 * 1024;
/** A page that has not ended after this much is not a page (an endless or multi-gigabyte body). */
export const DEFAULT_FETCH_MAX_READ_BYTES = 16 * 1024 * 1024;
export const DEFAULT_FETCH_RETRIES = 2;
export const DEFAULT_RETRY_DELAY_MS = 250;
export const DEFAULT_KEPT_HEADERS: readonly string[] = [
  "server",
  "content-type",
  "content-length",
  "location",
  "connection",
  "keep-alive",
  "via",
  "x-forwarded-server",
];
const MAX_RETRIES = 10;
const MAX_HEADER_CHARS = 512;

/** Failures worth another attempt: the service may be restarting or a failover may be under way. */
export const TRANSIENT_ERROR_CLASSES: ReadonlySet<ProbeErrorClass> = new Set<ProbeErrorClass>([
  "connect-refused",
  "connect-timeout",
  "unreachable",
  "headers-timeout",
  "body-timeout",
  "reset",
]);

export interface FetchOptions {
  client?: ProbeClient;
  localAddress?: string;
  method?: "GET" | "HEAD";
  timeouts?: Partial<ProbeTimeouts>;
  /** Body text kept at most; a longer body that ends is cut, not an error. Default 64 KiB. */
  maxBodyBytes?: number;
  /**
   * Bytes read to see the body end (at least maxBodyBytes). A body still going past it is
   * `body-too-large`: no lab page is that big, and a browser would never finish loading it. Default 16 MiB.
   */
  maxReadBytes?: number;
  /** Further attempts after a transient failure. Default 2; at most 10. */
  retries?: number;
  /** Wait before the first retry; doubles for each next one. Default 250 ms. */
  retryDelayMs?: number;
  /** Statuses that also count as transient (e.g. 502/503 while a backend is being failed over). */
  retryOnStatus?: readonly number[];
  /** Response headers copied into the result (lower case). Set-Cookie always goes to `setCookie`. */
  keepHeaders?: readonly string[];
  identify?: Identify;
  signal?: AbortSignal;
}

interface FetchCommon {
  /** Attempts made, 1 when the first one decided. */
  attempts: number;
  /** Duration of the last attempt. */
  latencyMs: number;
  localAddress?: string;
  localPort?: number;
  cookieSent?: string;
}

export type FetchResult =
  | (FetchCommon & {
      ok: true;
      status: number;
      headers: Record<string, string>;
      setCookie: string[];
      body: string;
      bodyTruncated: boolean;
      headersMs: number;
      backend?: string | null;
      label?: string;
    })
  | (FetchCommon & { ok: false; error: ProbeError; status?: number });

class TransientFailure extends Error {
  constructor(readonly result: FetchResult) {
    super(result.ok ? `status ${result.status}` : result.error.message);
  }
}

function keptHeaders(
  headers: Record<string, string | string[] | undefined>,
  names: readonly string[],
): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of names) {
    const value = headers[name.toLowerCase()];
    if (value === undefined) continue;
    kept[name.toLowerCase()] = capText(Array.isArray(value) ? value.join(", ") : value, MAX_HEADER_CHARS);
  }
  return kept;
}

/**
 * One non-statistical request ("the VIP answers 200"), on a new connection, retried a bounded number
 * of times on transient failures. Never throws for network trouble: the result says what happened.
 */
export async function fetchOnce(target: ProbeTarget, options: FetchOptions = {}): Promise<FetchResult> {
  assertTarget(target, "fetchOnce");
  const timeouts = resolveTimeouts(options.timeouts);
  const retries = options.retries ?? DEFAULT_FETCH_RETRIES;
  if (!Number.isInteger(retries) || retries < 0 || retries > MAX_RETRIES) {
    throw new RangeError(`fetchOnce option retries must be an integer from 0 to ${MAX_RETRIES}, got ${String(retries)}`);
  }
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_FETCH_MAX_BODY_BYTES;
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 0) {
    throw new RangeError(`fetchOnce option maxBodyBytes must be a non-negative integer, got ${String(maxBodyBytes)}`);
  }
  const maxReadBytes = Math.max(options.maxReadBytes ?? DEFAULT_FETCH_MAX_READ_BYTES, maxBodyBytes);
  const retryDelayMs = options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
  const retryOnStatus = new Set(options.retryOnStatus ?? []);
  const keep = options.keepHeaders ?? DEFAULT_KEPT_HEADERS;
  const client = options.client;
  const localAddress = options.localAddress ?? client?.localAddress;
  const method = options.method ?? "GET";
  const cancel = options.signal ?? new AbortController().signal;
  const decoder = new TextDecoder("utf-8");

  const bindProblem = localAddressProblem(localAddress);
  if (bindProblem !== null) return { ok: false, error: bindProblem, attempts: 1, latencyMs: 0 };

  const attemptOnce = async (): Promise<FetchResult> => {
    const cookieSent = client !== undefined ? await client.cookieHeaderFor(target) : "";
    const headers: Record<string, string> = { "user-agent": USER_AGENT, accept: "text/html,*/*" };
    if (target.host !== undefined && target.host !== "") headers.host = target.host;
    if (cookieSent !== "") headers.cookie = cookieSent;

    const tracker = new ConnectionTracker();
    const http = openClient(target, { tracker, timeouts, ...(localAddress !== undefined ? { localAddress } : {}) });
    let outcome;
    try {
      outcome = await exchange(http, target, { method, headers, timeouts, maxBodyBytes, maxReadBytes, cancel, tracker, reuse: false });
    } finally {
      await http.destroy().catch(() => undefined);
    }

    const common: FetchCommon = {
      attempts: 0,
      latencyMs: Math.round(outcome.totalMs * 100) / 100,
      ...(outcome.connection?.localAddress !== undefined ? { localAddress: outcome.connection.localAddress } : {}),
      ...(outcome.connection?.localPort !== undefined ? { localPort: outcome.connection.localPort } : {}),
      ...(cookieSent !== "" ? { cookieSent } : {}),
    };
    if (outcome.kind === "cancelled") {
      return { ...common, ok: false, error: { class: "other", message: "probe cancelled before an answer" } };
    }
    const setCookie = setCookieValues(outcome.headers)
      .slice(0, MAX_SET_COOKIES_PER_RESPONSE)
      .map((value) => capText(value, MAX_SET_COOKIE_CHARS));
    if (client !== undefined && setCookie.length > 0) await client.storeSetCookies(target, setCookie);
    if (outcome.kind === "error") {
      return { ...common, ok: false, error: outcome.error, ...(outcome.status !== undefined ? { status: outcome.status } : {}) };
    }
    if (!outcome.ended) {
      return { ...common, ok: false, status: outcome.status, error: { class: "body-too-large", message: `response body did not end within ${maxReadBytes} bytes` } };
    }
    const body = decoder.decode(outcome.body);
    const who = options.identify?.(body);
    return {
      ...common,
      ok: true,
      status: outcome.status,
      headers: keptHeaders(outcome.headers, keep),
      setCookie,
      body,
      bodyTruncated: outcome.truncated,
      headersMs: Math.round(outcome.headersMs * 100) / 100,
      ...(who !== undefined ? { backend: who.backend, label: who.label } : {}),
    };
  };

  const isTransient = (result: FetchResult): boolean =>
    !cancel.aborted && (result.ok ? retryOnStatus.has(result.status) : TRANSIENT_ERROR_CLASSES.has(result.error.class));

  let attempts = 0;
  let last: FetchResult | null = null;
  try {
    const result = await pRetry(
      async () => {
        attempts += 1;
        last = await attemptOnce();
        if (isTransient(last)) throw new TransientFailure(last);
        return last;
      },
      { retries, minTimeout: retryDelayMs, factor: 2, maxTimeout: retryDelayMs * 8, randomize: false, signal: cancel },
    );
    return { ...result, attempts };
  } catch (err) {
    if (err instanceof TransientFailure) return { ...err.result, attempts };
    const final = last as FetchResult | null;
    if (final !== null) return { ...final, attempts };
    return { ok: false, error: { class: "other", message: "probe cancelled before an answer" }, attempts, latencyMs: 0 };
  }
}
