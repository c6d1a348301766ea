export type {
  Identification,
  Identify,
  ProbeError,
  ProbeErrorClass,
  ProbeTarget,
  ProbeTimeouts,
  RequestRecord,
  SampleMode,
  SampleResult,
  StoppedBy,
} from "./types.js";
export { DEFAULT_TIMEOUTS } from "./types.js";
export {
  createIdentifier,
  sanitizeCapture,
  DEFAULT_IDENTITY_PATTERN,
  DEFAULT_MAX_EXAMINED_CHARS,
  type BackendIdentity,
  type IdentifierOptions,
} from "./identify.js";
export {
  ProbeClient,
  createProbeClient,
  cookieUrl,
  type ProbeClientOptions,
  type SetCookieSeen,
} from "./client.js";
export {
  sample,
  DEFAULT_RATE_PER_SECOND,
  DEFAULT_SAMPLE_DEADLINE_MS,
  DEFAULT_MAX_CONSECUTIVE_ERRORS,
  DEFAULT_MAX_BODY_BYTES,
  type SampleOptions,
} from "./sample.js";
export {
  fetchOnce,
  DEFAULT_FETCH_MAX_BODY_BYTES,
  DEFAULT_FETCH_RETRIES,
  DEFAULT_KEPT_HEADERS,
  TRANSIENT_ERROR_CLASSES,
  type FetchOptions,
  type FetchResult,
} from "./fetch.js";
export { classifyError } from "./errors.js";
export { listenForArrivals, type Arrival, type Listener } from "./listener.js";
export { tcpReach, reachAnswered, type Reach, type ReachState } from "./reach.js";
