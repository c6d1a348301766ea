import { performance } from "node:perf_hooks";
import { setTimeout as delay } from "node:timers/promises";
import type { Client } from "undici";
import type { ProbeClient } from "./client.js";
import { MAX_SET_COOKIES_PER_RESPONSE, MAX_SET_COOKIE_CHARS } from "./client.js";
import { capText } from "./errors.js";
import {
  ConnectionTracker,
  USER_AGENT,
  assertTarget,
  exchange,
  localAddressProblem,
  openClient,
  setCookieValues,
  type ExchangeOutcome,
} from "./exchange.js";
import { createIdentifier } from "./identify.js";
import {
  DEFAULT_TIMEOUTS,
  type Identify,
  type ProbeError,
  type ProbeTarget,
  type ProbeTimeouts,
  type RequestRecord,
  type SampleMode,
  type SampleResult,
  type StoppedBy,
} from "./types.js";

export const DEFAULT_RATE_PER_SECOND = 200;
export const DEFAULT_SAMPLE_DEADLINE_MS = 60_000;
export const DEFAULT_MAX_CONSECUTIVE_ERRORS = 10;
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
const MAX_REQUESTS_LIMIT = 100_000;

export interface SampleOptions {
  /**
   * new-connection: a new TCP connection per request (what IPVS balances).
   * keep-alive: every request on one persistent connection, reopened only when the server closes it
   * (Apache byrequests balances per request even there).
   */
  mode: SampleMode;
  maxRequests: number;
  /** Called after every record; a sequential test returns true as soon as it has decided. */
  shouldStop?: (record: RequestRecord, records: readonly RequestRecord[]) => boolean;
  /** Upper bound on the request rate: the grader grades, it does not load-test. Default 200. */
  ratePerSecond?: number;
  /** Requests that may start back to back after an idle spell. Default 1 (strict spacing). */
  burst?: number;
  signal?: AbortSignal;
  /** Bound on the whole sample. Default 60 s. */
  deadlineMs?: number;
  /** The sample ends after this many errors in a row. Default 10. */
  maxConsecutiveErrors?: number;
  /** Source address to bind; defaults to the client's. */
  localAddress?: string;
  /** Simulated browser whose cookie jar sends Cookie and stores Set-Cookie; without it, cookieless. */
  client?: ProbeClient;
  timeouts?: Partial<ProbeTimeouts>;
  /** Reading stops past this many body bytes (the record is then `body-too-large`). Default 1 MiB. */
  maxBodyBytes?: number;
  identify?: Identify;
  /** Progress display; called synchronously with each record as it is made. */
  onRecord?: (record: RequestRecord) => void;
}

function requirePositive(name: string, value: number, integer: boolean, max = Number.POSITIVE_INFINITY): void {
  const ok = Number.isFinite(value) && value > 0 && value <= max && (!integer || Number.isInteger(value));
  if (!ok) {
    const what = integer ? "a positive integer" : "a positive number";
    throw new RangeError(`sample option ${name} must be ${what}${Number.isFinite(max) ? ` up to ${max}` : ""}, got ${String(value)}`);
  }
}

export function resolveTimeouts(timeouts: Partial<ProbeTimeouts> | undefined): ProbeTimeouts {
  const resolved = { ...DEFAULT_TIMEOUTS, ...timeouts };
  requirePositive("timeouts.connectMs", resolved.connectMs, false);
  requirePositive("timeouts.headersMs", resolved.headersMs, false);
  requirePositive("timeouts.bodyMs", resolved.bodyMs, false);
  return resolved;
}

/** Spaces requests at ratePerSecond with at most `burst` back to back. */
class TokenBucket {
  readonly #rate: number;
  readonly #burst: number;
  #tokens: number;
  #last: number;

  constructor(ratePerSecond: number, burst: number, now: number) {
    this.#rate = ratePerSecond;
    this.#burst = burst;
    this.#tokens = burst;
    this.#last = now;
  }

  /** Takes a token and returns 0, or returns how many ms to wait before one is due. */
  take(now: number): number {
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) * this.#rate) / 1000);
    this.#last = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return ((1 - this.#tokens) * 1000) / this.#rate;
  }
}

const round2 = (ms: number): number => Math.round(ms * 100) / 100;

function errorRecordFields(error: ProbeError): Pick<RequestRecord, "backend" | "label" | "error"> {
  return { backend: null, label: `error:${error.class}`, error };
}

/**
 * Sends up to maxRequests GETs to the target, one at a time, and records which backend answered each.
 * A statistical sample is never retried: an error is recorded as its own category and the loop goes on,
 * bounded by consecutive errors and the deadline.
 */
export async function sample(target: ProbeTarget, options: SampleOptions): Promise<SampleResult> {
  assertTarget(target, "sample");
  requirePositive("maxRequests", options.maxRequests, true, MAX_REQUESTS_LIMIT);
  const rate = options.ratePerSecond ?? DEFAULT_RATE_PER_SECOND;
  requirePositive("ratePerSecond", rate, false);
  const burst = options.burst ?? 1;
  requirePositive("burst", burst, true);
  const deadlineMs = options.deadlineMs ?? DEFAULT_SAMPLE_DEADLINE_MS;
  requirePositive("deadlineMs", deadlineMs, false);
  const maxConsecutiveErrors = options.maxConsecutiveErrors ?? DEFAULT_MAX_CONSECUTIVE_ERRORS;
  requirePositive("maxConsecutiveErrors", maxConsecutiveErrors, true);
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  requirePositive("maxBodyBytes", maxBodyBytes, true);
  const timeouts = resolveTimeouts(options.timeouts);
  const identify = options.identify ?? createIdentifier();
  const client = options.client;
  const localAddress = options.localAddress ?? client?.localAddress;
  const bindProblem = localAddressProblem(localAddress);
  const keepAlive = options.mode === "keep-alive";

  const start = performance.now();
  const records: RequestRecord[] = [];
  const tracker = new ConnectionTracker();
  const bucket = new TokenBucket(rate, burst, start);
  const decoder = new TextDecoder("utf-8");

  const stop = new AbortController();
  let stopReason: "deadline" | "abort" | null = null;
  const halt = (why: "deadline" | "abort"): void => {
    if (stopReason !== null) return;
    stopReason = why;
    stop.abort();
  };
  const onUserAbort = (): void => halt("abort");
  if (options.signal?.aborted === true) halt("abort");
  else options.signal?.addEventListener("abort", onUserAbort, { once: true });
  const deadlineTimer = setTimeout(() => halt("deadline"), deadlineMs);

  let persistent: Client | null = null;
  let stoppedBy: StoppedBy = "max";
  let consecutiveErrors = 0;

  const connect = (): Client =>
    openClient(target, { tracker, timeouts, ...(localAddress !== undefined ? { localAddress } : {}) });

  try {
    for (let seq = 1; seq <= options.maxRequests; seq++) {
      for (;;) {
        if (stopReason !== null) break;
        const wait = bucket.take(performance.now());
        if (wait <= 0) break;
        await delay(Math.max(1, Math.ceil(wait)), undefined, { signal: stop.signal }).catch(() => undefined);
      }
      if (stopReason !== null) break;

      const sentAt = performance.now();
      const cookieSent = client !== undefined ? await client.cookieHeaderFor(target) : "";
      const headers: Record<string, string> = { "user-agent": USER_AGENT, accept: "text/html,*/*" };
      if (target.host !== undefined && target.host !== "") headers.host = target.host;
      if (cookieSent !== "") headers.cookie = cookieSent;

      let outcome: ExchangeOutcome;
      if (bindProblem !== null) {
        outcome = { kind: "error", error: bindProblem, connection: null, totalMs: 0 };
      } else if (keepAlive) {
        persistent ??= connect();
        outcome = await exchange(persistent, target, {
          method: "GET", headers, timeouts, maxBodyBytes, cancel: stop.signal, tracker, reuse: true,
        });
      } else {
        const oneShot = connect();
        try {
          outcome = await exchange(oneShot, target, {
            method: "GET", headers, timeouts, maxBodyBytes, cancel: stop.signal, tracker, reuse: false,
          });
        } finally {
          await oneShot.destroy().catch(() => undefined);
        }
      }
      if (outcome.kind === "cancelled") break;

      const setCookie = setCookieValues(outcome.headers)
        .slice(0, MAX_SET_COOKIES_PER_RESPONSE)
        .map((value) => capText(value, MAX_SET_COOKIE_CHARS));
      if (client !== undefined && setCookie.length > 0) await client.storeSetCookies(target, setCookie);

      const connection = outcome.connection;
      const record: RequestRecord = {
        seq,
        t: round2(sentAt - start),
        connectionId: connection?.id ?? null,
        ...(connection?.localAddress !== undefined ? { localAddress: connection.localAddress } : {}),
        ...(connection?.localPort !== undefined ? { localPort: connection.localPort } : {}),
        ...(outcome.status !== undefined ? { status: outcome.status } : {}),
        backend: null,
        label: "unidentified",
        setCookie,
        ...(cookieSent !== "" ? { cookieSent } : {}),
        latencyMs: round2(outcome.totalMs),
      };
      if (outcome.kind === "error") {
        Object.assign(record, errorRecordFields(outcome.error));
      } else if (outcome.truncated) {
        Object.assign(
          record,
          errorRecordFields({ class: "body-too-large", message: `response body larger than ${maxBodyBytes} bytes` }),
        );
      } else {
        const who = identify(decoder.decode(outcome.body));
        record.backend = who.backend;
        record.label = who.label;
      }

      records.push(record);
      options.onRecord?.(record);

      consecutiveErrors = record.error !== undefined ? consecutiveErrors + 1 : 0;
      if (options.shouldStop?.(record, records) === true) {
        stoppedBy = "shouldStop";
        break;
      }
      // A source address that cannot be bound will not become bindable during the sample.
      if (record.error?.class === "bind-failed" || consecutiveErrors >= maxConsecutiveErrors) {
        stoppedBy = "errors";
        break;
      }
    }
    if (stopReason !== null && stoppedBy === "max") stoppedBy = stopReason;
    // A stop that lands after the last request completed did not cut anything short.
    if (records.length === options.maxRequests && stoppedBy !== "shouldStop" && stoppedBy !== "errors") stoppedBy = "max";
  } finally {
    clearTimeout(deadlineTimer);
    options.signal?.removeEventListener("abort", onUserAbort);
    if (persistent !== null) await persistent.destroy().catch(() => undefined);
  }

  return {
    records,
    stoppedBy,
    durationMs: round2(performance.now() - start),
    connections: tracker.count,
  };
}
