/**
 * The keepalived readers against keepalived 2.2.7 itself: `keepalived -t` (config test,
 * nothing started) must complain exactly when the model reports problems, on the same
 * lines; genhash, run against a raw HTTP server on loopback, must print the digest
 * keepalivedResponseDigest computes from the same bytes.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import {
  genhashDigest,
  keepalivedModel,
  keepalivedResponseDigest,
  parseGenhashOutput,
  parseKeepalivedConfig,
  parseKeepalivedConfigtest,
} from "../../src/inspect/index.js";
import { fixture, fixturesDir, hasCommand, run } from "./helpers.js";

const execFileAsync = promisify(execFile);

describe.skipIf(!hasCommand("keepalived"))("keepalivedModel agrees with keepalived -t", () => {
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "hgtest-inspect-keepalived-"));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const cases: Record<string, string> = {
    "lab as written": fixture("keepalived/lab-as-written.conf"),
    "lab with addresses, still persistence_timeout 0": fixture("keepalived/lab-as-written.conf")
      .replace("lvs_id", "router_id")
      .replace("ip_publica_balanceador", "203.0.113.10")
      .replace("ip_webserver1", "10.200.0.11")
      .replace("ip_webserver2", "10.200.0.12"),
    "lab with wrr and persistence": fixture("keepalived/lab-wrr-persistent.conf"),
    "lab with HTTP_GET and nb_get_retry": fixture("keepalived/lab-http-get.conf"),
    "lab with HTTP_GET and retry": fixture("keepalived/lab-http-get.conf").replace("nb_get_retry", "retry"),
    "odd syntax": fixture("keepalived/odd-syntax.conf"),
    "extra closing brace": fixture("keepalived/broken-braces.conf"),
    "no protocol line": fixture("keepalived/lab-wrr-persistent.conf").replace("    protocol TCP\n", ""),
    "unknown scheduler": fixture("keepalived/lab-wrr-persistent.conf").replace("lb_algo wrr", "lb_algo roundrobin"),
    "HTTP_GET without url": fixture("keepalived/lab-wrr-persistent.conf").replace(/TCP_CHECK/g, "HTTP_GET"),
    "keepalived.conf.sample": fixture("keepalived/keepalived.conf.sample"),
    "keepalived.conf.vrrp": fixture("keepalived/keepalived.conf.vrrp"),
  };

  for (const [name, text] of Object.entries(cases)) {
    it(name, () => {
      const file = join(dir, "keepalived.conf");
      writeFileSync(file, text);
      const result = run("keepalived", ["-t", "-l", "-f", file]);
      const test = parseKeepalivedConfigtest(result.stdout + result.stderr);
      const model = keepalivedModel(parseKeepalivedConfig(text, { file }));
      // keepalived also checks the host (network interfaces named by VRRP): not the file's fault.
      const messages = test.messages.filter((message) => !/interface \S+ for vrrp_instance .* doesn't exist|Non-existent interface/.test(message.message));
      const evidence = JSON.stringify({ status: result.status, keepalived: messages, model: model.problems.map((problem) => [problem.code, problem.line, problem.endLine]) });
      expect(model.problems.length === 0, evidence).toBe(messages.length === 0);
      if (messages.length === test.messages.length) expect(result.status === 0, evidence).toBe(messages.length === 0);
      // The first line keepalived blames lies in a statement or block the model blames.
      const first = messages.find((message) => message.line !== undefined);
      if (first?.line !== undefined) {
        const line = first.line;
        expect(model.problems.some((problem) => problem.line !== undefined && problem.line <= line && line <= (problem.endLine ?? problem.line)), evidence).toBe(true);
      }
    });
  }
});

interface RawServer {
  server: Server;
  port: number;
}

/** A loopback server that answers every request with fixed bytes, then closes. */
async function rawServer(responses: Record<string, Buffer>): Promise<RawServer> {
  const server = createServer((socket) => {
    let request = "";
    socket.on("data", (chunk) => {
      request += chunk.toString("latin1");
      if (!request.includes("\r\n\r\n")) return;
      const path = /^GET (\S+)/.exec(request)?.[1] ?? "/";
      socket.end(responses[path] ?? Buffer.from("HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n"));
    });
    socket.on("error", () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

const BODY = "<html><body>Bienvenido a webserver1</body></html>\n";

const RESPONSES: Record<string, Buffer> = {
  "/exact": Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY}`),
  "/chunked": Buffer.from(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n11\r\n<html><body>Bienv\r\n${(BODY.length - 17).toString(16)}\r\n${BODY.slice(17)}\r\n0\r\n\r\n`),
  "/close-delimited": Buffer.from(`HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n${BODY}`),
  "/longer-than-length": Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n${BODY}`),
  "/lower-case-length": Buffer.from(`HTTP/1.1 200 OK\r\ncontent-length: 12\r\n\r\n${BODY}`),
  "/not-found": Buffer.from(`HTTP/1.1 404 Not Found\r\nContent-Length: 10\r\n\r\nNot found\n`),
  "/utf8": Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength("Año ñandú €\n")}\r\n\r\nAño ñandú €\n`),
};

describe.skipIf(!hasCommand("genhash"))("keepalivedResponseDigest agrees with genhash", () => {
  let served: RawServer | undefined;
  beforeAll(async () => {
    served = await rawServer(RESPONSES);
  });
  afterAll(async () => {
    if (served) await new Promise<void>((resolve) => served?.server.close(() => resolve()));
  });

  async function genhash(path: string): Promise<string | undefined> {
    const { stdout } = await execFileAsync("genhash", ["-s", "127.0.0.1", "-p", String(served?.port), "-u", path], { timeout: 20_000 });
    return parseGenhashOutput(stdout).digest;
  }

  for (const path of Object.keys(RESPONSES)) {
    it(path, async () => {
      const expected = keepalivedResponseDigest(RESPONSES[path] as Buffer).digest;
      expect(expected).toMatch(/^[0-9a-f]{32}$/);
      expect(await genhash(path)).toBe(expected);
    });
  }

  it("hashes only the body: genhashDigest of the body equals genhash on a Content-Length response", async () => {
    expect(await genhash("/exact")).toBe(genhashDigest(Buffer.from(BODY)));
    expect(await genhash("/utf8")).toBe(genhashDigest("Año ñandú €\n"));
  });

  it("does not decode chunked bodies and truncates to Content-Length (case-sensitive header)", () => {
    expect(keepalivedResponseDigest(RESPONSES["/chunked"] as Buffer)).toMatchObject({ chunked: true });
    expect(keepalivedResponseDigest(RESPONSES["/chunked"] as Buffer).digest).not.toBe(genhashDigest(BODY));
    expect(keepalivedResponseDigest(RESPONSES["/longer-than-length"] as Buffer)).toMatchObject({ contentLength: 12, hashedBytes: 12, digest: genhashDigest(BODY.slice(0, 12)) });
    expect(keepalivedResponseDigest(RESPONSES["/lower-case-length"] as Buffer)).toMatchObject({ hashedBytes: BODY.length, digest: genhashDigest(BODY) });
    expect(keepalivedResponseDigest(RESPONSES["/not-found"] as Buffer).statusCode).toBe(404);
    expect(keepalivedResponseDigest(Buffer.from("HTTP/1.1 200 OK\r\nno end of headers")).digest).toBeUndefined();
  });

  it("fixture of the lab's digest is the MD5 of its page", () => {
    // lab-http-get.conf carries the digest of "Bienvenido a webserver1\n\n" in upper case.
    expect(genhashDigest("Bienvenido a webserver1\n\n")).toBe("55fe05639c7068cd074a2fed17404247");
    expect(fixturesDir).toBeTruthy();
  });
});
