import type { ProbeError, ProbeErrorClass } from "./types.js";

const MAX_MESSAGE_CHARS = 300;

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  syscall?: unknown;
  message?: unknown;
  cause?: unknown;
}

function asErrorLike(value: unknown): ErrorLike | null {
  return typeof value === "object" && value !== null ? (value as ErrorLike) : null;
}

const UNREACHABLE_CODES = new Set(["EHOSTUNREACH", "ENETUNREACH", "EHOSTDOWN", "ENETDOWN", "ENONET"]);
const RESET_CODES = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED", "UND_ERR_SOCKET", "UND_ERR_CLOSED"]);
const PROTOCOL_CODES = new Set([
  "UND_ERR_HEADERS_OVERFLOW",
  "UND_ERR_RES_CONTENT_LENGTH_MISMATCH",
  "UND_ERR_INFO",
  "UND_ERR_NOT_SUPPORTED",
]);

function classifyOne(err: ErrorLike): ProbeErrorClass | null {
  const code = typeof err.code === "string" ? err.code : "";
  const syscall = typeof err.syscall === "string" ? err.syscall : "";
  const name = typeof err.name === "string" ? err.name : "";
  if (syscall === "bind" || code === "EADDRNOTAVAIL") return "bind-failed";
  if (code === "ECONNREFUSED") return "connect-refused";
  if (code === "UND_ERR_CONNECT_TIMEOUT") return "connect-timeout";
  if (code === "ETIMEDOUT") return syscall === "connect" ? "connect-timeout" : "reset";
  if (UNREACHABLE_CODES.has(code)) return "unreachable";
  if (code === "UND_ERR_HEADERS_TIMEOUT") return "headers-timeout";
  if (code === "UND_ERR_BODY_TIMEOUT") return "body-timeout";
  if (code === "UND_ERR_RES_EXCEEDED_MAX_SIZE") return "body-too-large";
  if (RESET_CODES.has(code)) return "reset";
  if (name === "HTTPParserError" || code.startsWith("HPE_") || PROTOCOL_CODES.has(code)) return "protocol";
  return null;
}

/** Turns whatever Node or undici threw into one of the probe's error categories. */
export function classifyError(error: unknown): ProbeError {
  let current: unknown = error;
  // Node wraps some socket errors as `cause`; a few levels are enough and bound a hostile cycle.
  for (let depth = 0; depth < 4; depth++) {
    const err = asErrorLike(current);
    if (err === null) break;
    const cls = classifyOne(err);
    if (cls !== null) return { class: cls, message: errorMessage(error) };
    current = err.cause;
  }
  return { class: "other", message: errorMessage(error) };
}

export function errorMessage(error: unknown): string {
  const err = asErrorLike(error);
  const text = err !== null && typeof err.message === "string" && err.message !== "" ? err.message : String(error);
  const code = err !== null && typeof err.code === "string" && !text.includes(err.code) ? ` (${err.code})` : "";
  return capText(text + code, MAX_MESSAGE_CHARS);
}

export function capText(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
