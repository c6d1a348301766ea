/**
 * One lab cannot stall the class: in a batch, one student's machines answer with files built to
 * hang or crash the parsers (a keepalived.conf of 3000 nested "{", an Apache configuration of
 * 3000 nested sections, Include and include lines of 24 stars over a file name of thousands of
 * characters, an IPVS table and JSON nested past the stack). Every lab of the batch is graded
 * within its budget, and the hostile lab's configuration is the student's fail or inconclusive,
 * never the grader's error. What stalls a class is a parser that holds the event loop (no budget
 * can fire then): the longest the loop was held is measured and bounded, apart from the budget,
 * which a busy CI machine stretches. Scripted sshds on loopback, no lab.
 */
import http from "node:http";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readResult } from "../../src/batch/entry.js";
import type { RosterEntry } from "../../src/batch/roster.js";
import { gradeBatch } from "../../src/batch/run.js";
import { startFakeSshd, type FakeAnswer, type FakeSshd, type ReceivedCommand } from "../helpers/fake-sshd.js";

/** A lab's budget: generous, as a CI machine grading other labs meanwhile stretches a grade. */
const BUDGET_MS = 90_000;
/** The longest the event loop may be held at once: a parser that backtracks or recurses without a bound holds it for minutes. */
const MAX_LOOP_HELD_MS = 10_000;
const LONG_NAME = "a".repeat(4000);
const STARS = "*".repeat(24);

let work: string;
let web: http.Server;
let webPort = 0;
const servers: FakeSshd[] = [];

function keepalivedConf(hostile: boolean): string {
  const realServers =
    "  real_server 10.0.0.11 80 {\n    weight 1\n    TCP_CHECK {\n      connect_timeout 3\n    }\n  }\n" +
    "  real_server 10.0.0.12 80 {\n    weight 1\n    TCP_CHECK {\n      connect_timeout 3\n    }\n  }\n";
  const deep = hostile ? `${"  x {\n".repeat(3000)}${"  }\n".repeat(3000)}` : "";
  const include = hostile ? `include /etc/keepalived/${STARS}b\n` : "";
  return `${include}virtual_server 127.0.0.1 ${webPort} {\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n${deep}${realServers}}\n`;
}

function apacheConf(hostile: boolean): string {
  const deep = hostile ? `${"<Location /x>\n".repeat(3000)}${"</Location>\n".repeat(3000)}Include sites-enabled/${STARS}b\n` : "";
  return `<VirtualHost *:80>\n${deep}<Proxy balancer://c>\nBalancerMember http://10.0.0.11:80 route=wsrv1\nBalancerMember http://10.0.0.12:80 route=wsrv2\n</Proxy>\nProxyPass / balancer://c/\n</VirtualHost>\n`;
}

function answerFor(hostile: boolean) {
  return (c: ReceivedCommand): FakeAnswer => {
    const cmd = c.command;
    if (cmd.startsWith("u=$(id -u)")) return { stdout: "0\n" };
    if (cmd.startsWith("for f in")) {
      // The files an include's glob names: one with a name of thousands of characters.
      return { stdout: `/etc/keepalived/${LONG_NAME}\t${Buffer.from("global_defs {\n}\n").toString("base64")}\n` };
    }
    if (/keepalived\.conf/.test(cmd)) return { stdout: keepalivedConf(hostile) };
    if (/apache2|httpd|sites-enabled/.test(cmd)) {
      return {
        stdout: `/etc/apache2/sites-enabled/${LONG_NAME}\n${apacheConf(hostile)}`,
      };
    }
    if (cmd.includes("ipvsadm")) {
      const table = `TCP  127.0.0.1:${webPort} rr\n  -> 10.0.0.11:80 Masq 1 0 0\n  -> 10.0.0.12:80 Masq 1 0 0\n`;
      return { stdout: `IP Virtual Server version 1.2.1 (size=4096)\n${table}${hostile ? "  -> ".repeat(200_000) : ""}\n` };
    }
    if (/ -j | --json|nft -j/.test(cmd) && hostile) return { stdout: `${"[".repeat(200_000)}${"]".repeat(200_000)}` };
    return { stdout: "" };
  };
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "hagrade-stall-"));
  let turn = 0;
  web = http.createServer((_req, res) => res.end(`<h1>Bienvenido a webserver${(turn++ % 2) + 1}</h1>`));
  await new Promise<void>((done) => web.listen(0, "127.0.0.1", done));
  webPort = (web.address() as { port: number }).port;
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await new Promise<void>((done) => web.close(() => done()));
  await rm(work, { recursive: true, force: true });
});

async function labSpec(id: string, hostile: boolean, part: "lvs" | "proxy"): Promise<string> {
  const machines: FakeSshd[] = [];
  for (let i = 0; i < 3; i++) machines.push(await startFakeSshd({ answer: answerFor(hostile) }));
  servers.push(...machines);
  const target = (s: FakeSshd) => ({ host: s.address, port: s.port, hostKey: s.fingerprint, jump: "none" });
  const spec = {
    lab: id,
    part,
    vip: { address: "127.0.0.1", port: webPort },
    balancer: { internalAddress: "10.0.0.1", ssh: target(machines[0]!) },
    backends: [
      { name: "webserver1", address: "10.0.0.11", ssh: target(machines[1]!) },
      { name: "webserver2", address: "10.0.0.12", ssh: target(machines[2]!) },
    ],
    ssh: { user: "root", password: { env: "HAGRADE_STALL_TEST_PASSWORD" }, config: false },
    timeouts: { connect: 1000, request: 1000, ssh: 5000, failover: 1500, rejoin: 1500 },
    sampling: { maxRequests: 40 },
  };
  const file = join(work, `${id}.json`);
  await writeFile(file, JSON.stringify(spec));
  return file;
}

describe("a batch with one lab built to hang the parsers", () => {
  for (const part of ["lvs", "proxy"] as const) {
    it(`${part}: every lab is graded within its budget, the hostile one without a grader error`, async () => {
      process.env.HAGRADE_STALL_TEST_PASSWORD = "stall-test-password";
      const ids = [`${part}-hostile`, `${part}-ok-1`, `${part}-ok-2`];
      const roster: RosterEntry[] = [];
      for (const [index, id] of ids.entries()) {
        roster.push({ index, row: index + 2, id, lab: id, specFile: await labSpec(id, index === 0, part), overrides: {} });
      }
      const outDir = join(work, `out-${part}`);
      const started = performance.now();
      const loop = monitorEventLoopDelay({ resolution: 20 });
      loop.enable();
      const entries = await gradeBatch({ roster, outDir, concurrency: 3, budgetMs: BUDGET_MS, lang: "en", part, force: true });
      loop.disable();
      expect(performance.now() - started).toBeLessThan(BUDGET_MS);
      expect(loop.max / 1e6, "the longest the event loop was held (ms)").toBeLessThan(MAX_LOOP_HELD_MS);
      expect(entries.map((e) => [e.lab, e.status])).toEqual(ids.map((id) => [id, "graded"]));
      for (const entry of entries) expect(entry.errors ?? 0, entry.lab).toBe(0);
      const hostile = await readResult(join(outDir, ids[0]!));
      expect(hostile).toBeDefined();
      expect(hostile!.checks.filter((c) => c.outcome === "error")).toEqual([]);
    }, BUDGET_MS + 20_000);
  }
});
