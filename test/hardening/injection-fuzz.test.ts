/**
 * Fuzz: every machine of the lab is a scripted sshd whose every answer carries shell injection
 * payloads (quotes, $(), backquotes, newlines, `;`, NUL), inside answers shaped enough for the
 * parsers to act on them (a keepalived.conf, an IPVS table, md5sum and base64 output). A full
 * `--disruptive` grade of both parts runs against it; every command each sshd received is read
 * back the way sh reads it (and the scripts handed to `sh -c`/`bash -c` too): no payload may sit
 * outside quotes anywhere.
 */
import http from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labSpecSchema } from "../../src/config/schema.js";
import { gradeLab } from "../../src/runner/grade.js";
import { startFakeSshd, type FakeAnswer, type FakeSshd, type ReceivedCommand } from "../helpers/fake-sshd.js";
import { gradeOptions } from "../helpers/grade.js";
import { shellTokens, type ShellWord } from "../helpers/shell-words.js";

/** Each payload carries the marker PWN, which hagrade itself never writes. */
const PAYLOADS = [
  "'; touch /tmp/PWN1; echo '",
  "$(touch /tmp/PWN2)",
  "`touch /tmp/PWN3`",
  "x\ntouch /tmp/PWN4\n",
  "; touch /tmp/PWN5;",
  "\"; touch /tmp/PWN6; \"",
  "a\u0000touch /tmp/PWN7",
];
const NOISE = PAYLOADS.join("\n");
const DIGEST = "0123456789abcdef0123456789abcdef";
const MD5_PAYLOAD = "';touch /tmp/PWN0;'".padEnd(32, "0");

let work: string;
const servers: FakeSshd[] = [];
let web: http.Server;
let webPort = 0;

function answerFor(vipPort: number) {
  return (c: ReceivedCommand): FakeAnswer => {
    const cmd = c.command;
    if (cmd.startsWith("u=$(id -u)")) return { stdout: "0\n" };
    if (/keepalived\.conf|\/etc\/keepalived/.test(cmd)) {
      return {
        stdout:
          `global_defs {\n  router_id ${PAYLOADS[0]}\n  notification_email_from ${PAYLOADS[1]}\n}\n` +
          `virtual_server 127.0.0.1 ${vipPort} {\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n` +
          `  real_server 10.0.0.11 80 {\n    weight 1\n    HTTP_GET {\n      url {\n        path /\n        digest ${DIGEST}\n      }\n    }\n  }\n` +
          `  real_server 10.0.0.12 80 {\n    weight 1\n    HTTP_GET {\n      url {\n        path /\n        digest ${DIGEST}\n      }\n    }\n  }\n}\n# ${NOISE}\n`,
      };
    }
    // genhash agrees with the configured digest, so lvs.http-get goes on to its disruptive half.
    if (cmd.includes("genhash")) return { stdout: `MD5SUM = ${DIGEST}\n${NOISE}\n` };
    if (cmd.includes("ipvsadm")) {
      return {
        stdout:
          "IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n" +
          `TCP  127.0.0.1:${vipPort} rr\n  -> 10.0.0.11:80                 Masq    1      0          0\n  -> 10.0.0.12:80                 Masq    1      0          0\n${NOISE}\n`,
      };
    }
    // 32 characters, as an MD5 is: what the page fetch and the page file both "hash" to.
    if (cmd.includes("md5sum")) return { stdout: `${MD5_PAYLOAD}\n${PAYLOADS[0]}\n` };
    if (cmd.includes("base64")) return { stdout: `/var/www/html/index.html\t${PAYLOADS[0]}\n` };
    return { stdout: `Bienvenido a webserver1 ${NOISE}\n` };
  };
}

/** Every word of `command`, and of the scripts it hands to `sh -c` or `bash -c`, as sh reads them. */
function wordsOf(command: string, depth = 0): ShellWord[] {
  let tokens;
  try {
    tokens = shellTokens(command);
  } catch {
    // An unterminated quote: sh would refuse the line; the whole text counts as unquoted.
    return [{ text: command, quoted: [...command].map(() => false) }];
  }
  const words = tokens.flatMap((t) => ("word" in t ? [t.word] : []));
  const nested = depth > 4 ? [] : words.flatMap((word, i) => (words[i - 1]?.text === "-c" ? wordsOf(word.text, depth + 1) : []));
  return [...words, ...nested];
}

function unquotedPayloads(command: string): string[] {
  const found: string[] = [];
  for (const word of wordsOf(command)) {
    for (let at = word.text.indexOf("PWN"); at >= 0; at = word.text.indexOf("PWN", at + 1)) {
      if (word.quoted.slice(at, at + 3).some((q) => !q)) found.push(word.text);
    }
  }
  return found;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "hagrade-fuzz-"));
  let turn = 0;
  web = http.createServer((_req, res) => {
    res.end(`<h1>Bienvenido a webserver${(turn++ % 2) + 1}</h1> ${NOISE.split("\u0000").join("")}`);
  });
  await new Promise<void>((done) => web.listen(0, "127.0.0.1", done));
  webPort = (web.address() as { port: number }).port;
  for (let i = 0; i < 3; i++) servers.push(await startFakeSshd({ answer: answerFor(webPort), forward: () => undefined }));
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await new Promise<void>((done) => web.close(() => done()));
  await rm(work, { recursive: true, force: true });
});

describe("a lab that answers every command with injection payloads", () => {
  for (const part of ["lvs", "proxy"] as const) {
    it(`a --disruptive grade of the ${part} part sends no payload outside quotes`, async () => {
      const [balancer, ws1, ws2] = servers as [FakeSshd, FakeSshd, FakeSshd];
      const target = (s: FakeSshd) => ({ host: s.address, port: s.port, hostKey: s.fingerprint, jump: "none" as const });
      const spec = labSpecSchema.parse({
        lab: `fuzz-${part}`,
        part,
        vip: { address: "127.0.0.1", port: webPort },
        balancer: { internalAddress: "10.0.0.1", ssh: target(balancer) },
        backends: [
          { name: "webserver1", address: "10.0.0.11", ssh: target(ws1) },
          { name: "webserver2", address: "10.0.0.12", ssh: target(ws2) },
        ],
        ssh: { user: "root", password: "fuzz-password-123", config: false },
        timeouts: { connect: 1000, request: 1000, ssh: 3000, failover: 1500, rejoin: 1500 },
        sampling: { maxRequests: 40 },
      });
      const before = servers.map((s) => s.commands().length);
      const run = await gradeLab(spec, gradeOptions({ journalDir: join(work, "journal"), disruptive: true, part, signal: AbortSignal.timeout(100_000) }));
      expect(run.checks.length).toBeGreaterThan(3);
      const received = servers.flatMap((s, i) => s.commands().slice(before[i]));
      // The grade did talk to every machine, and read the answers built to tempt it.
      expect(received.length).toBeGreaterThan(5);
      const leaks = received.flatMap((c) => unquotedPayloads(c.command).map((word) => `${word} in: ${c.command}`));
      expect(leaks).toEqual([]);
    }, 120_000);
  }

  it("the detector sees the payload in the undo command as it was built before", () => {
    const original = PAYLOADS[0]!;
    expect(unquotedPayloads(`printf '%s' '${original}' | base64 -d > /var/www/html/index.html`)).not.toEqual([]);
    expect(unquotedPayloads(`timeout 5 bash -c 'printf '\\''GET /'\\''$(touch PWN9)'\\'' HTTP/1.0'\\'' >&3'`)).not.toEqual([]);
  });
});
