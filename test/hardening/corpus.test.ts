/**
 * A corpus of hostile input, in one table: spec files a student or a teacher's script may hand
 * in, and HTTP peers that answer in ways no browser would accept. Every case goes through the
 * real command line. Each must end with a message that names the field and the fix (exit 2) or
 * with a correct verdict, never a crash, a stack trace or a raw escape sequence on the terminal.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { foreignEscapes, hagrade, limited, STACK_FRAME, type CliRun } from "./cli.js";

const CORPUS = join(import.meta.dirname, "corpus");
let work: string;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "hagrade-corpus-"));
});
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await rm(work, { recursive: true, force: true });
});

const BASE = `lab: corpus
part: proxy
vip: { address: 127.0.0.1, port: 9 }
balancer: { internalAddress: 127.0.0.1 }
backends:
  - { name: webserver1, address: 127.0.0.2, loadfactor: 3 }
  - { name: webserver2, address: 127.0.0.3, loadfactor: 1 }
`;

// ---------------------------------------------------------------------------------------------
// Spec files: exit code 2, the field and the fix named, nothing raw on the terminal.

interface SpecCase {
  name: string;
  /** A file of test/hardening/corpus, or a function that makes the spec path in `dir`. */
  spec: string | ((dir: string) => Promise<string>);
  /** What stderr must say: the field and/or the fix. */
  says: RegExp[];
}

const SPEC_CASES: SpecCase[] = [
  { name: "a text where a port number goes", spec: "wrong-type-port.yaml", says: [/vip\.port \(line 5\)/, /found the text "eighty"/, /Fix: Write a whole number from 1 to 65535/] },
  { name: "a number too large for a double (1e400)", spec: "huge-number.yaml", says: [/vip\.port/, /infinite number/] },
  { name: "NaN as a rate", spec: "nan-rate.yaml", says: [/sampling\.ratePerSecond/, /NaN \(not a number\)/, /Fix: Write a number from 1 to/] },
  { name: "a negative loadfactor", spec: "negative-loadfactor.yaml", says: [/backends\[0\]\.loadfactor is -3; the minimum is 1/] },
  { name: "an address that is not IPv4", spec: "bad-ip.yaml", says: [/vip\.address/, /999\.1\.2\.3/] },
  { name: "a misspelled key", spec: "unknown-key.yaml", says: [/vip\.adress/, /Did you mean "address"/] },
  { name: "a misspelled section", spec: "misspelled-section.yaml", says: [/Did you mean "backends"/] },
  { name: "a list instead of a map", spec: "list-instead-of-map.yaml", says: [/must be a map of fields/] },
  { name: "billion laughs (10^9 aliases)", spec: "billion-laughs.yaml", says: [/too many YAML aliases/, /Write the values out/] },
  { name: "merge keys doubling 40 times", spec: "merge-key-bomb.yaml", says: [/too many YAML aliases/] },
  { name: "an anchor that contains itself", spec: "alias-to-itself.yaml", says: [/student\.name/] },
  { name: "a language-specific tag (!!js/function)", spec: "custom-tag.yaml", says: [/lab \(line 1\)/] },
  { name: "terminal escapes in a value", spec: "escape-in-value.yaml", says: [/vip\.address/, /\\x1b\]0;pwned\\x07/] },
  { name: "terminal escapes in a key", spec: "escape-in-key.yaml", says: [/Unknown field "\\x1b\[31mred/] },
  { name: "a private key that does not exist", spec: "missing-key-file.yaml", says: [/ssh\.privateKey/, /no-such-folder\/id_ed25519/, /ssh-keygen/] },
  { name: "a password file that does not exist", spec: "missing-secret-file.yaml", says: [/ssh\.password\.file/, /no-such-secret\.txt/] },
  { name: "a private key that is a device (/dev/zero)", spec: "key-is-device.yaml", says: [/ssh\.privateKey/, /\/dev\/zero is a device, pipe or socket/] },
  { name: "a passphrase file that is a device (/dev/urandom)", spec: "secret-is-device.yaml", says: [/ssh\.passphrase\.file/, /\/dev\/urandom is a device/] },
  { name: "a port written as words", spec: "ssh-port-text.yaml", says: [/ssh\.port/, /twenty-two/] },
  { name: "JSON with trailing commas (read as YAML flow)", spec: "json-trailing-comma.json", says: [/balancer .* is missing/, /backends .* is missing/] },
  {
    name: "Latin-1 bytes (not UTF-8)",
    spec: async (dir) => write(dir, "latin1.yaml", Buffer.concat([Buffer.from(BASE), Buffer.from("student: { name: Jos"), Buffer.from([0xe9]), Buffer.from(" }\n")])),
    says: [/byte 0xE9 on line 8 is not valid UTF-8/, /iconv/],
  },
  { name: "UTF-16 with its byte-order mark", spec: async (dir) => write(dir, "utf16.yaml", Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(BASE, "utf16le")])), says: [/UTF-16/] },
  { name: "an empty file", spec: async (dir) => write(dir, "empty.yaml", ""), says: [/empty\.yaml is empty/, /hagrade init/] },
  { name: "only comments", spec: async (dir) => write(dir, "comments.yaml", "# lab: x\n# vip: y\n"), says: [/is empty/] },
  {
    name: "a folder instead of a file",
    spec: async (dir) => {
      await mkdir(join(dir, "a-folder"), { recursive: true });
      return join(dir, "a-folder");
    },
    says: [/is a folder, not a spec file/],
  },
  { name: "a device that never ends (/dev/zero)", spec: async () => "/dev/zero", says: [/goes on past 1048576 bytes/] },
  { name: "NUL bytes in the text", spec: async (dir) => write(dir, "nul.yaml", `${BASE}student: { name: "a\u0000b" }\n`), says: [/NUL bytes/] },
  { name: "a 2 MB file", spec: async (dir) => write(dir, "huge.yaml", `${BASE}# ${"x".repeat(2_000_000)}\n`), says: [/the most allowed is 1048576/] },
  {
    name: "a 600 kB value, named but not echoed",
    spec: async (dir) => write(dir, "long-value.yaml", BASE.replace("lab: corpus", `lab: ${"a".repeat(600_000)}`)),
    says: [/^ {2}1\. lab \(line 1\)/m],
  },
  { name: "JSON nested 100 000 deep", spec: async (dir) => write(dir, "deep.json", "[".repeat(100_000)), says: [/nested too deeply/] },
  {
    name: "a private key path that loops on itself (symlink)",
    spec: async (dir) => {
      await symlink(join(dir, "loop-key"), join(dir, "loop-key")).catch(() => undefined);
      return write(dir, "loop.yaml", `${BASE}ssh:\n  privateKey: ${join(dir, "loop-key")}\n`);
    },
    says: [/ssh\.privateKey/, /ELOOP/],
  },
  {
    name: "a private key that is a named pipe nobody writes",
    spec: async (dir) => {
      execFileSync("mkfifo", [join(dir, "fifo-key")]);
      return write(dir, "fifo.yaml", `${BASE}ssh:\n  privateKey: ${join(dir, "fifo-key")}\n`);
    },
    says: [/fifo-key is a device, pipe or socket/],
  },
];

async function write(dir: string, name: string, content: string | Buffer): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, content);
  return file;
}

function text(b: Buffer): string {
  return b.toString("utf8");
}

describe("hostile spec files through `hagrade run`", () => {
  it(`each of ${SPEC_CASES.length} cases: exit code 2, the field and the fix, no stack trace, no raw escape`, async () => {
    const dir = await mkdtemp(join(work, "specs-"));
    const runs = await limited(3, SPEC_CASES.map((c) => async () => {
      const spec = typeof c.spec === "string" ? join(CORPUS, c.spec) : await c.spec(dir);
      return hagrade(["run", "--spec", spec, "--lang", "en", "--reporter", "console", "--out", join(dir, "out")], { boundMs: 60_000 });
    }));
    const wrong: string[] = [];
    SPEC_CASES.forEach((c, i) => {
      const r = runs[i]!;
      const stderr = text(r.stderr);
      const problems = [
        r.killed ? "did not end within 60 s" : "",
        r.code !== 2 ? `exit code ${String(r.code)}` : "",
        STACK_FRAME.test(stderr) || /internal error/.test(stderr) ? "stack trace or internal error" : "",
        foreignEscapes(Buffer.concat([r.stdout, r.stderr])).length ? `raw escapes ${foreignEscapes(Buffer.concat([r.stdout, r.stderr])).join(" ")}` : "",
        stderr.length > 20_000 ? `stderr of ${stderr.length} characters (a value echoed whole?)` : "",
        ...c.says.filter((re) => !re.test(stderr)).map((re) => `stderr does not match ${re}`),
      ].filter(Boolean);
      if (problems.length) wrong.push(`${c.name}: ${problems.join("; ")}\n${stderr.slice(0, 600)}`);
    });
    expect(wrong).toEqual([]);
    // Nothing was graded, so nothing was written.
    expect(existsSync(join(dir, "out"))).toBe(false);
  }, 300_000);
});

// ---------------------------------------------------------------------------------------------
// HTTP peers on loopback: a correct verdict each, reports written, nothing raw on the terminal.

type Responder = (socket: net.Socket, requestCount: number) => void;

/** A TCP peer that answers each request (after its blank line) with `respond`, then closes. */
async function rawPeer(respond: Responder): Promise<{ address: string; port: number }> {
  let count = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    let head = "";
    const onData = (d: Buffer) => {
      head += d.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      socket.off("data", onData);
      respond(socket, ++count);
    };
    socket.on("data", onData);
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((done) => server.close(() => done()));
  });
  return { address: "127.0.0.1", port: (server.address() as net.AddressInfo).port };
}

/** A node HTTP peer (it refuses to write invalid headers itself, so it serves the valid oddities). */
async function httpPeer(handler: http.RequestListener): Promise<{ address: string; port: number }> {
  const server = http.createServer(handler);
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((done) => server.close(() => done()));
  });
  return { address: "127.0.0.1", port: (server.address() as net.AddressInfo).port };
}

function answer(status: string, headers: string[], body: string | Buffer): Buffer {
  const payload = typeof body === "string" ? Buffer.from(body) : body;
  return Buffer.concat([Buffer.from(`HTTP/1.1 ${status}\r\n${[...headers, `Content-Length: ${payload.length}`, "Connection: close"].join("\r\n")}\r\n\r\n`, "latin1"), payload]);
}

const page = (n: number | string) => `<html><body><h1>Bienvenido a webserver${n}</h1></body></html>\n`;
/** Answers webserver1 and webserver2 in turn, like a balancer. */
const alternating: http.RequestListener = (() => {
  let k = 0;
  return (_req, res) => {
    res.writeHead(200, { "content-type": "text/html" });
    res.end(page((k++ % 2) + 1));
  };
})();

const ESCAPES = "\u001b[2J\u001b]0;pwned\u0007\u001b]8;;http://evil.example/\u001b\\link\u001b]8;;\u001b\\\u009b31m";
const INJECTION = `<script>document.title='pwned';alert(1)</script><img src=x onerror=alert(2)><a href="javascript:alert(3)">x</a>`;

interface HttpCase {
  name: string;
  peer: () => Promise<{ address: string; port: number }>;
  only: string[];
  /** Spec fields laid over the base spec (e.g. a teacher's identity pattern that captures any text). */
  specExtra?: Record<string, unknown>;
  /** Write the spec as YAML with a BOM and CRLF line ends instead of JSON. */
  crlfBom?: boolean;
  outcomes: Record<string, string>;
  /**
   * A wrong verdict hagrade still gives: the case runs as an expected failure (it.fails) until
   * the fix lands, and then fails, so the marker is removed with the fix.
   */
  pending?: string;
  /** What the console says (the message says what was seen). */
  says: RegExp[];
  exit: number;
}

const ANY_TEXT_IDENTITY = { identity: { pattern: "Bienvenido a webserver(.*?)</h1>" } };

const HTTP_CASES: HttpCase[] = [
  {
    name: "a header name with a space",
    peer: () => rawPeer((s) => s.end(answer("200 OK", ["X Bad Name: 1"], page(1)))),
    only: ["net.vip-http"],
    outcomes: { "net.vip-http": "fail" },
    says: [/no valid HTTP answer \(protocol\)/],
    exit: 1,
  },
  {
    name: "a NUL byte inside a header value",
    peer: () => rawPeer((s) => s.end(answer("200 OK", ["X-A: a\u0000b"], page(1)))),
    only: ["net.vip-http"],
    outcomes: { "net.vip-http": "fail" },
    says: [/\(protocol\)/],
    exit: 1,
  },
  {
    name: "a redirect to itself (a loop is not followed)",
    peer: () => httpPeer((req, res) => res.writeHead(302, { location: req.url ?? "/" }).end()),
    only: ["net.vip-http"],
    outcomes: { "net.vip-http": "fail" },
    says: [/HTTP status 302, not 200/],
    exit: 1,
  },
  {
    name: "a redirect to an address outside the lab (not followed)",
    peer: () => httpPeer((_req, res) => res.writeHead(301, { location: "http://203.0.113.7/" }).end()),
    only: ["net.vip-http"],
    outcomes: { "net.vip-http": "fail" },
    says: [/HTTP status 301, not 200/],
    exit: 1,
  },
  {
    name: "a ROUTEID cookie of 1 MB",
    peer: () => rawPeer((s) => s.end(answer("200 OK", [`Set-Cookie: ROUTEID=.${"w".repeat(1024 * 1024)}; path=/`], page(1)))),
    only: ["net.vip-http"],
    outcomes: { "net.vip-http": "fail" },
    says: [/\(protocol\)/],
    exit: 1,
  },
  {
    name: "a ROUTEID cookie with control characters",
    peer: () => rawPeer((s, n) => s.end(answer("200 OK", [`Set-Cookie: ROUTEID=.ws\u001b[2J\u0007rv${(n % 2) + 1}; path=/`], page((n % 2) + 1)))),
    only: ["net.vip-http", "proxy.routeid-cookie"],
    outcomes: { "net.vip-http": "fail", "proxy.routeid-cookie": "skipped" },
    says: [/\(protocol\)/],
    exit: 1,
  },
  {
    name: "three hundred Set-Cookie headers and no ROUTEID",
    peer: () => httpPeer((_req, res) => {
      res.writeHead(200, { "set-cookie": Array.from({ length: 300 }, (_, i) => `c${i}=${i}; path=/`), "content-type": "text/html" });
      res.end(page(1));
    }),
    only: ["net.vip-http", "proxy.routeid-cookie"],
    outcomes: { "net.vip-http": "pass", "proxy.routeid-cookie": "fail" },
    says: [/ROUTEID/],
    exit: 1,
  },
  {
    name: "a status line with escape sequences (503)",
    peer: () => rawPeer((s) => s.end(answer(`503 ${ESCAPES}`, [`Server: ${ESCAPES}`], page(1)))),
    only: ["net.vip-http"],
    // RFC 9112: a reason phrase is visible characters only; the probe's parser refuses it.
    outcomes: { "net.vip-http": "fail" },
    says: [/no valid HTTP answer \(protocol\)/],
    exit: 1,
  },
  {
    name: "page text with terminal escape sequences (ESC[2J, OSC 0 title, OSC 8 link, 8-bit CSI)",
    peer: () => httpPeer((_req, res) => res.writeHead(200, { "content-type": "text/html" }).end(`<h1>Bienvenido a webserver${ESCAPES}</h1>`)),
    only: ["net.vip-http", "net.two-backends"],
    specExtra: ANY_TEXT_IDENTITY,
    outcomes: { "net.vip-http": "pass", "net.two-backends": "fail" },
    says: [/webserver1/],
    exit: 1,
  },
  {
    name: "a page with HTML and JavaScript injection",
    // The cookie trace shows Set-Cookie as received: the injection reaches the page as text.
    peer: () => httpPeer((_req, res) => {
      res.writeHead(200, { "content-type": "text/html", server: INJECTION, "set-cookie": `ROUTEID=.wsrv1${INJECTION}; path=/` });
      res.end(`<h1>Bienvenido a webserver${INJECTION}</h1>`);
    }),
    only: ["net.vip-http", "net.two-backends", "proxy.routeid-cookie"],
    specExtra: ANY_TEXT_IDENTITY,
    outcomes: { "net.vip-http": "pass", "net.two-backends": "fail" },
    says: [/unknown:_script_document\.title_pwned/],
    exit: 1,
  },
  {
    name: "a page in Latin-1, served by two servers in turn",
    peer: () => {
      let k = 0;
      return httpPeer((_req, res) => res.writeHead(200, { "content-type": "text/html; charset=iso-8859-1" }).end(Buffer.concat([Buffer.from(page((k++ % 2) + 1)), Buffer.from([0xe9, 0xf1, 0xff])])));
    },
    only: ["net.vip-http", "net.two-backends"],
    outcomes: { "net.vip-http": "pass", "net.two-backends": "pass" },
    says: [/webserver1: \d+, webserver2: \d+/],
    exit: 0,
  },
  {
    name: "a ROUTEID cookie from pages no web server's identity matches",
    peer: () => httpPeer((_req, res) => res.writeHead(200, { "content-type": "text/html", "set-cookie": "ROUTEID=.wsrv1; path=/" }).end("<h1>It works!</h1>")),
    only: ["net.vip-http", "proxy.routeid-cookie"],
    outcomes: { "net.vip-http": "pass", "proxy.routeid-cookie": "inconclusive" },
    says: [/unidentified/],
    exit: 1,
  },
  {
    name: "an SSH banner instead of HTTP",
    peer: () => rawPeer((s) => s.end("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")),
    only: ["net.vip-http"],
    outcomes: { "net.vip-http": "fail" },
    says: [/\(protocol\)/],
    exit: 1,
  },
  {
    name: "a spec saved with a BOM and CRLF line ends, on a correct balancer",
    peer: () => httpPeer(alternating),
    only: ["net.vip-http", "net.two-backends"],
    crlfBom: true,
    outcomes: { "net.vip-http": "pass", "net.two-backends": "pass" },
    says: [/answers 200/],
    exit: 0,
  },
];

function specFor(peer: { address: string; port: number }, c: HttpCase): string | Buffer {
  const spec = {
    lab: "corpus-http",
    part: "proxy",
    vip: { address: peer.address, port: peer.port },
    balancer: { internalAddress: "127.0.0.1" },
    backends: [
      { name: "webserver1", address: "127.0.0.2", loadfactor: 1 },
      { name: "webserver2", address: "127.0.0.3", loadfactor: 1 },
    ],
    timeouts: { connect: 1000, request: 2000 },
    sampling: { maxRequests: 100, ratePerSecond: 500 },
    ...c.specExtra,
  };
  if (!c.crlfBom) return JSON.stringify(spec, null, 2);
  const yaml = `lab: corpus-http\npart: proxy\nvip:\n  address: ${peer.address}\n  port: ${peer.port}\nbalancer:\n  internalAddress: 127.0.0.1\nbackends:\n  - name: webserver1\n    address: 127.0.0.2\n  - name: webserver2\n    address: 127.0.0.3\n`;
  return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(yaml.replace(/\n/g, "\r\n"))]);
}

interface Graded {
  run: CliRun;
  result: { checks: { id: string; outcome: string; message: { en: string } }[] } | undefined;
  html: string;
  out: string;
}

async function grade(c: HttpCase, env: NodeJS.ProcessEnv = {}): Promise<Graded> {
  const peer = await c.peer();
  const out = await mkdtemp(join(work, "http-"));
  const specPath = join(out, c.crlfBom ? "lab.yaml" : "lab.json");
  await writeFile(specPath, specFor(peer, c));
  const run = await hagrade(
    ["run", "--spec", specPath, "--lang", "en", "--only", c.only.join(","), "--reporter", "console,json,junit,html", "--out", join(out, "reports"), "--journal-dir", join(out, "journal")],
    { env, boundMs: 90_000 },
  );
  const json = await readFile(join(out, "reports", "result.json"), "utf8").catch(() => undefined);
  const html = await readFile(join(out, "reports", "scorecard.html"), "utf8").catch(() => "");
  return { run, result: json === undefined ? undefined : (JSON.parse(json) as Graded["result"]), html, out };
}

/** Tags of the page that would run code: <script>, inline handlers, javascript: URLs, frames. */
function activeMarkup(html: string): string[] {
  const found: string[] = [];
  for (const [tag] of html.matchAll(/<[a-zA-Z][^>]*>/g)) {
    if (/^<(script|iframe|object|embed|img|link|base|meta http-equiv="refresh")/i.test(tag) || /\son[a-z]+\s*=/i.test(tag) || /javascript:/i.test(tag)) found.push(tag.slice(0, 80));
  }
  return found;
}

describe("hostile HTTP peers through `hagrade run`", () => {
  const graded = new Map<string, Graded>();
  beforeAll(async () => {
    const results = await limited(2, HTTP_CASES.map((c) => () => grade(c)));
    HTTP_CASES.forEach((c, i) => graded.set(c.name, results[i]!));
  }, 300_000);

  for (const c of HTTP_CASES) (c.pending ? it.fails : it)(c.pending ? `${c.name} (pending: ${c.pending})` : c.name, () => {
    const { run, result } = graded.get(c.name)!;
    const stdout = text(run.stdout);
    const stderr = text(run.stderr);
    expect(run.killed, "the run ended on its own").toBe(false);
    expect(STACK_FRAME.test(stderr) || /internal error/.test(stderr), stderr).toBe(false);
    expect(result, stderr).toBeDefined();
    expect(result!.checks.map((k) => k.id).sort()).toEqual([...c.only].sort());
    const outcomes = Object.fromEntries(result!.checks.filter((k) => k.id in c.outcomes).map((k) => [k.id, k.outcome]));
    expect(outcomes, stdout).toEqual(c.outcomes);
    for (const re of c.says) expect(stdout).toMatch(re);
    expect(run.code, stdout + stderr).toBe(c.exit);
    // Not a TTY and no FORCE_COLOR: not one escape byte, not even colours.
    expect(foreignEscapes(Buffer.concat([run.stdout, run.stderr]))).toEqual([]);
    expect(run.stdout.includes(0x1b)).toBe(false);
  });

  it("every scorecard of the corpus is inert HTML: no script, handler or javascript: URL, and a CSP", () => {
    for (const c of HTTP_CASES) {
      const { html } = graded.get(c.name)!;
      expect(html, c.name).toContain("<!DOCTYPE html>");
      expect(html).toContain(`http-equiv="Content-Security-Policy" content="default-src 'none'`);
      expect(activeMarkup(html), c.name).toEqual([]);
      // eslint-disable-next-line no-control-regex
      expect(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(html), `${c.name}: control characters in the page`).toBe(false);
    }
    // The injected text is there, shown as text.
    const injected = graded.get("a page with HTML and JavaScript injection")!.html;
    expect(injected).toContain("&lt;script&gt;");
  });

  it("with FORCE_COLOR the console writes only its own colour codes, never the page's escapes", async () => {
    const c = HTTP_CASES.find((k) => k.name.startsWith("page text with terminal escape"))!;
    const { run } = await grade(c, { FORCE_COLOR: "1" });
    expect(run.stdout.includes(0x1b), "colours are on").toBe(true);
    expect(foreignEscapes(Buffer.concat([run.stdout, run.stderr]))).toEqual([]);
    // The page's text is named, its escapes made harmless.
    expect(text(run.stdout)).toMatch(/unknown:_2J_0_pwned/);
  }, 120_000);

  const chromium = "/usr/bin/chromium";
  const PLAYWRIGHT: string = "playwright-core";
  const playwright = (() => {
    try {
      return createRequire(import.meta.url).resolve(PLAYWRIGHT);
    } catch {
      return undefined;
    }
  })();
  const missing = !existsSync(chromium) ? `${chromium} is not installed` : !playwright ? "playwright-core is not installed" : undefined;
  it.skipIf(missing !== undefined)(`the injected scorecard runs nothing in headless Chromium${missing ? ` — skipped: ${missing}` : ""}`, async () => {
    const { out } = graded.get("a page with HTML and JavaScript injection")!;
    const { chromium: launcher } = (await import(/* optional */ PLAYWRIGHT)) as {
      chromium: {
        launchPersistentContext(dir: string, o: object): Promise<{
          newPage(): Promise<{
            on(e: string, f: (x: { dismiss?: () => Promise<void> }) => void): void;
            goto(u: string): Promise<unknown>;
            title(): Promise<string>;
            evaluate<T>(expression: string): Promise<T>;
          }>;
          close(): Promise<void>;
        }>;
      };
    };
    const profile = await mkdtemp(join(work, "chromium-"));
    const context = await launcher.launchPersistentContext(profile, {
      executablePath: chromium,
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    try {
      const tab = await context.newPage();
      const dialogs: unknown[] = [];
      tab.on("dialog", (d) => {
        dialogs.push(d);
        void d.dismiss?.();
      });
      await tab.goto(`file://${join(out, "reports", "scorecard.html")}`);
      expect(dialogs).toEqual([]);
      expect(await tab.title()).not.toContain("pwned");
      expect(await tab.evaluate<number>(`document.querySelectorAll("script, img, iframe").length`)).toBe(0);
      expect(await tab.evaluate<string>("document.body.textContent")).toContain("<script>document.title='pwned'");
    } finally {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    }
  }, 120_000);
});
