/**
 * One HTTP exchange over an undici Client, with the probe's own phase deadlines, a body cap,
 * and the TCP connection that carried it. Shared by statistical samples and one-off fetches.
 */
import net from "node:net";
import { performance } from "node:perf_hooks";
import { Client, buildConnector } from "undici";
import { scopeViolation } from "./scope.js";
import { classifyError } from "./errors.js";
import type { ProbeError, ProbeErrorClass, ProbeTarget, ProbeTimeouts } from "./types.js";

export const USER_AGENT = "hagrade-probe";

export interface ConnectionInfo {
  /** 1-based, in the order connections were established within one tracker. */
  id: number;
  localAddress?: string;
  localPort?: number;
  closed: boolean;
}

/** Numbers the TCP connections undici opens, so records can say which one carried a request. */
export class ConnectionTracker {
  count = 0;
  current: ConnectionInfo | null = null;
  /** Told of each new connection; the running exchange uses it to start its headers deadline. */
  onConnect: ((info: ConnectionInfo) => void) | null = null;

  wrap(base: buildConnector.connector): buildConnector.connector {
    return (options, callback) => {
      const denied = scopeViolation(options.hostname);
      if (denied !== null) {
        callback(Object.assign(new Error(denied), { code: "EHAGRADESCOPE" }), null);
        return;
      }
      base(options, (...args) => {
        const socket = args[1];
        if (args[0] === null && socket !== null) this.#register(socket);
        callback(...args);
      });
    };
  }

  #register(socket: net.Socket): void {
    this.count += 1;
    const info: ConnectionInfo = { id: this.count, closed: false };
    if (socket.localAddress !== undefined) info.localAddress = socket.localAddress;
    if (socket.localPort !== undefined) info.localPort = socket.localPort;
    socket.once("close", () => {
      info.closed = true;
    });
    this.current = info;
    this.onConnect?.(info);
  }
}

export interface OpenClientOptions {
  tracker: ConnectionTracker;
  timeouts: ProbeTimeouts;
  localAddress?: string;
}

/** An undici Client is exactly one TCP connection at a time to one origin: what the probe needs. */
export function openClient(target: ProbeTarget, options: OpenClientOptions): Client {
  const host = net.isIP(target.address) === 6 ? `[${target.address}]` : target.address;
  const connector = options.tracker.wrap(buildConnector({ timeout: options.timeouts.connectMs }));
  return new Client(`http://${host}:${target.port}`, {
    connect: connector,
    ...(options.localAddress !== undefined ? { localAddress: options.localAddress } : {}),
    headersTimeout: options.timeouts.headersMs,
    // undici's body timeout is the idle gap between chunks; the total is enforced in exchange().
    bodyTimeout: options.timeouts.bodyMs,
    pipelining: 1,
    // A grader at a few requests a second must not lose its keep-alive connection between requests.
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 600_000,
  });
}

/** A target the engine cannot even address is a programming error in the caller, named precisely. */
export function assertTarget(target: ProbeTarget, caller: string): void {
  if (typeof target.address !== "string" || target.address === "") {
    throw new RangeError(`${caller}: target.address must be an IP address, got ${String(target.address)}`);
  }
  if (!Number.isInteger(target.port) || target.port < 1 || target.port > 65535) {
    throw new RangeError(`${caller}: target.port must be an integer from 1 to 65535, got ${String(target.port)}`);
  }
  if (typeof target.path !== "string" || !target.path.startsWith("/")) {
    throw new RangeError(`${caller}: target.path must start with "/", got ${String(target.path)}`);
  }
}

/** Checks a source address before undici sees it, so a bad one is a bind failure, not a throw. */
export function localAddressProblem(localAddress: string | undefined): ProbeError | null {
  if (localAddress === undefined) return null;
  if (net.isIP(localAddress) === 0) {
    return { class: "bind-failed", message: `source address "${localAddress.slice(0, 64)}" is not an IP address` };
  }
  return null;
}

export interface ExchangeRequest {
  method: "GET" | "HEAD";
  headers: Record<string, string>;
  timeouts: ProbeTimeouts;
  maxBodyBytes: number;
  /**
   * Bytes read (the rest dropped) to see the body end, beyond the ones kept; default
   * maxBodyBytes. A body still going past it is cut (`ended: false`).
   */
  maxReadBytes?: number;
  /** The caller's stop (deadline or abort): the exchange is then dropped, not recorded as an error. */
  cancel: AbortSignal;
  tracker: ConnectionTracker;
  /** Whether the client may carry the request on a connection opened before this exchange. */
  reuse: boolean;
}

interface ExchangeCommon {
  connection: ConnectionInfo | null;
  totalMs: number;
}

export type ExchangeOutcome =
  | (ExchangeCommon & {
      kind: "response";
      status: number;
      headers: Record<string, string | string[] | undefined>;
      body: Buffer;
      /** True when the body went past maxBodyBytes: only that much of it is kept. */
      truncated: boolean;
      /** False when reading stopped before the body ended (it went past maxReadBytes). */
      ended: boolean;
      headersMs: number;
    })
  | (ExchangeCommon & {
      kind: "error";
      error: ProbeError;
      status?: number;
      headers?: Record<string, string | string[] | undefined>;
    })
  | (ExchangeCommon & { kind: "cancelled" });

type Cut = ProbeErrorClass | "cancelled";

function cutMessage(cut: ProbeErrorClass, timeouts: ProbeTimeouts): string {
  switch (cut) {
    case "connect-timeout":
      return `no TCP connection within ${timeouts.connectMs} ms`;
    case "headers-timeout":
      return `no complete response headers within ${timeouts.headersMs} ms`;
    case "body-timeout":
      return `response body not complete within ${timeouts.bodyMs} ms`;
    default:
      return cut;
  }
}

export async function exchange(client: Client, target: ProbeTarget, request: ExchangeRequest): Promise<ExchangeOutcome> {
  const started = performance.now();
  const { tracker, timeouts } = request;
  const countBefore = tracker.count;
  const previous = request.reuse ? tracker.current : null;
  const previousOpen = previous !== null && !previous.closed;
  const connectionNow = (): ConnectionInfo | null =>
    tracker.count > countBefore ? tracker.current : previousOpen ? previous : null;
  const elapsed = (): number => performance.now() - started;

  if (request.cancel.aborted) return { kind: "cancelled", connection: null, totalMs: 0 };

  const controller = new AbortController();
  let cutBy: Cut | null = null;
  const cut = (why: Cut): void => {
    if (cutBy !== null) return;
    cutBy = why;
    controller.abort(new Error(`probe stopped the request: ${why}`));
  };
  const onCancel = (): void => cut("cancelled");
  request.cancel.addEventListener("abort", onCancel, { once: true });
  // undici's own connect and headers timers are coarse (they can fire a second late) and its headers
  // timer does not bound a server that trickles header bytes: the probe keeps its own deadlines.
  let timer: NodeJS.Timeout | undefined;
  const startHeadersDeadline = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => cut("headers-timeout"), timeouts.headersMs);
  };
  if (previousOpen) startHeadersDeadline();
  else timer = setTimeout(() => cut("connect-timeout"), timeouts.connectMs);
  tracker.onConnect = startHeadersDeadline;

  let status: number | undefined;
  let headers: Record<string, string | string[] | undefined> | undefined;
  try {
    const response = await client.request({
      path: target.path,
      method: request.method,
      headers: request.headers,
      signal: controller.signal,
    });
    tracker.onConnect = null;
    status = response.statusCode;
    headers = response.headers;
    const headersMs = elapsed();
    clearTimeout(timer);
    timer = setTimeout(() => cut("body-timeout"), timeouts.bodyMs);

    const chunks: Buffer[] = [];
    const maxReadBytes = Math.max(request.maxReadBytes ?? request.maxBodyBytes, request.maxBodyBytes);
    let bytes = 0;
    let read = 0;
    let truncated = false;
    let ended = true;
    for await (const chunk of response.body) {
      const buf = chunk as Buffer;
      const room = request.maxBodyBytes - bytes;
      if (buf.length > room) {
        if (room > 0) chunks.push(buf.subarray(0, room));
        bytes += Math.max(room, 0);
        truncated = true;
      } else {
        chunks.push(buf);
        bytes += buf.length;
      }
      read += buf.length;
      // Only what is kept is held in memory; an endless body is dropped as it arrives, up to the read bound.
      if (read > maxReadBytes || (truncated && maxReadBytes === request.maxBodyBytes)) {
        ended = false;
        break;
      }
    }
    if (!ended) response.body.destroy();
    return {
      kind: "response",
      status,
      headers,
      body: Buffer.concat(chunks, bytes),
      truncated,
      ended,
      headersMs,
      connection: connectionNow(),
      totalMs: elapsed(),
    };
  } catch (err) {
    const totalMs = elapsed();
    const connection = connectionNow();
    const why = cutBy as Cut | null;
    if (why === "cancelled") return { kind: "cancelled", connection, totalMs };
    const error: ProbeError = why !== null ? { class: why, message: cutMessage(why, timeouts) } : classifyError(err);
    return {
      kind: "error",
      error,
      connection,
      totalMs,
      ...(status !== undefined ? { status } : {}),
      ...(headers !== undefined ? { headers } : {}),
    };
  } finally {
    tracker.onConnect = null;
    clearTimeout(timer);
    request.cancel.removeEventListener("abort", onCancel);
  }
}

/** Set-Cookie values of a response, whether undici folded them into one string or an array. */
export function setCookieValues(headers: Record<string, string | string[] | undefined> | undefined): string[] {
  const value = headers?.["set-cookie"];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}
