/**
 * HTTP_GET digests as keepalived computes them, and genhash's output.
 */

import { createHash } from "node:crypto";

import { splitLines, type InspectProblem } from "./common.js";

/*
 * What keepalived hashes (keepalived/check/check_http.c http_process_response, and the
 * older stand-alone genhash/http.c http_process_stream; both verified against genhash
 * 2.2.7 on a loopback server):
 *  - the bytes after the first "\r\n\r\n" of the response: the headers are excluded;
 *  - at most Content-Length bytes when the headers carry "Content-Length:" (matched
 *    case-sensitively, as strstr does), otherwise everything up to the end of the stream;
 *  - the raw stream: a chunked body is NOT decoded, its chunk-size lines are hashed too.
 *    keepalived asks with HTTP/1.0 by default, so servers answer unchunked; with
 *    `http_protocol 1.1` (genhash -P 1.1) a chunked answer hashes differently from its body.
 * The digest is MD5 printed as 32 lower-case hex characters.
 */

/** MD5 hex of an HTTP response body, as keepalived's HTTP_GET and genhash compute it. */
export function genhashDigest(body: Buffer | Uint8Array | string): string {
  return createHash("md5").update(typeof body === "string" ? Buffer.from(body, "utf8") : body).digest("hex");
}

export interface ResponseDigest {
  /** undefined when the response has no end of headers (keepalived: "no data received"). */
  digest?: string;
  statusCode?: number;
  contentLength?: number;
  chunked: boolean;
  /** How many body bytes went into the digest. */
  hashedBytes: number;
}

/** The digest keepalived computes from a raw HTTP response (status line, headers and body). */
export function keepalivedResponseDigest(raw: Buffer | Uint8Array): ResponseDigest {
  const buffer = Buffer.from(raw);
  const end = buffer.indexOf("\r\n\r\n", 0, "latin1");
  if (end < 0) return { chunked: false, hashedBytes: 0 };
  const head = buffer.subarray(0, end).toString("latin1");
  const body = buffer.subarray(end + 4);
  const result: ResponseDigest = { chunked: /\r\nTransfer-Encoding:[^\r\n]*chunked/i.test(head), hashedBytes: 0 };
  const status = /^\S*\s+(\d+)/.exec(head);
  if (status) result.statusCode = Number(status[1]);
  const length = /Content-Length:[ \t]*(\d+)/.exec(head);
  let hashed = body;
  if (length) {
    result.contentLength = Number(length[1]);
    hashed = body.subarray(0, Math.min(body.length, result.contentLength));
  }
  result.hashedBytes = hashed.length;
  result.digest = genhashDigest(hashed);
  return result;
}

export interface GenhashResult {
  digest?: string;
  /** keepalived 1.x genhash warns when the body is shorter or longer than Content-Length. */
  contentLengthMismatch?: { contentLength: number; received: number };
  /** From verbose (-v) output: "Global response time for [/] = 3676 usecs". */
  responseTimeMicroseconds?: number;
  problems: InspectProblem[];
}

/**
 * Reads genhash output: keepalived 2.x prints the bare digest (after hex dumps with -v),
 * keepalived 1.x prints "MD5SUM = <digest>".
 */
export function parseGenhashOutput(stdout: string): GenhashResult {
  const result: GenhashResult = { problems: [] };
  const lines = splitLines(typeof stdout === "string" ? stdout : "");
  lines.forEach((raw, index) => {
    const text = raw.trim();
    const digest = /^(?:(?:MD5SUM|MD5|SHA1SUM)\s*=\s*)?([0-9a-fA-F]{32})$/.exec(text);
    if (digest) result.digest = (digest[1] as string).toLowerCase();
    const mismatch = /Content-Length \((\d+)\) does not match received bytes \((\d+)\)/.exec(text);
    if (mismatch) result.contentLengthMismatch = { contentLength: Number(mismatch[1]), received: Number(mismatch[2]) };
    const time = /^Global response time for \[.*\] = (\d+) usecs$/.exec(text);
    if (time) result.responseTimeMicroseconds = Number(time[1]);
    if (/no data received|Connection failed|Timeout|Cannot send get request|Error connecting/i.test(text)) {
      result.problems.push({ code: "genhash-failed", severity: "error", message: `genhash: ${text}`, line: index + 1, text: raw });
    }
  });
  if (result.digest === undefined && result.problems.length === 0) {
    result.problems.push({
      code: "genhash-no-digest",
      severity: "error",
      message: lines.length === 0 ? "genhash printed nothing (did it reach the web server?)." : "genhash printed no 32-character digest.",
    });
  }
  return result;
}

/** keepalived compares the configured digest with the computed one byte-wise: hex case does not matter. */
export function digestsEqual(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && a.trim().toLowerCase() === b.trim().toLowerCase();
}
