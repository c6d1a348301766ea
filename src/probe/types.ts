/**
 * Plain-JSON shapes the probe engine hands to checks and reporters.
 * A record must survive JSON.stringify/parse unchanged: evidence is saved and re-graded later.
 */

/** Where the lab's service answers: usually the VIP. */
export interface ProbeTarget {
  /** IPv4 (or IPv6) literal the TCP connection goes to. */
  address: string;
  port: number;
  /** Request path, starting with "/". */
  path: string;
  /** Host header (and cookie domain) when the lab serves a named virtual host. */
  host?: string;
}

/** Why a request produced no usable answer; each is its own category in a sample, never retried. */
export type ProbeErrorClass =
  | "connect-refused"
  | "connect-timeout"
  | "unreachable"
  | "headers-timeout"
  | "body-timeout"
  | "body-too-large"
  | "reset"
  | "protocol"
  | "bind-failed"
  | "other";

export interface ProbeError {
  class: ProbeErrorClass;
  message: string;
}

/** Separate deadlines per phase so a slow body is not mistaken for a dead server. */
export interface ProbeTimeouts {
  /** TCP connect. */
  connectMs: number;
  /** From request sent to complete response headers. */
  headersMs: number;
  /** Total time to read the body (not only the gap between chunks: a trickling body must end). */
  bodyMs: number;
}

export const DEFAULT_TIMEOUTS: Readonly<ProbeTimeouts> = Object.freeze({
  connectMs: 3000,
  headersMs: 5000,
  bodyMs: 5000,
});

/** What the grader decided a page is. */
export interface Identification {
  /** Name of the lab's backend that served the page, or null. */
  backend: string | null;
  /** Backend name, `unknown:<capture>` or `unidentified` (`error:<class>` in records). */
  label: string;
  /** Text the identity pattern captured, when it matched. */
  captured?: string;
}

export type Identify = (body: string) => Identification;

/** One request of a sample. */
export interface RequestRecord {
  /** 1-based position in the sample. */
  seq: number;
  /** Milliseconds from the sample's start to the moment this request was sent. */
  t: number;
  /**
   * 1-based id of the TCP connection that carried the request, unique within the sample;
   * null when no connection was established (refused, unreachable, bind failure).
   */
  connectionId: number | null;
  localAddress?: string;
  localPort?: number;
  status?: number;
  backend: string | null;
  label: string;
  /** Set-Cookie header values of the response, as received (each length-capped). */
  setCookie: string[];
  /** Cookie header the simulated browser sent, when it sent one. */
  cookieSent?: string;
  /** From request start (including connect when a new connection was needed) to body end or error. */
  latencyMs: number;
  error?: ProbeError;
}

export type SampleMode = "new-connection" | "keep-alive";

export type StoppedBy = "max" | "shouldStop" | "deadline" | "abort" | "errors";

export interface SampleResult {
  records: RequestRecord[];
  stoppedBy: StoppedBy;
  durationMs: number;
  /** TCP connections established during the sample. */
  connections: number;
}
