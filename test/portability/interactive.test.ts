/**
 * Failover without SSH to the web servers (a Windows host with IIS, VMs without sshd): with
 * --interactive, hagrade asks the person at the terminal to stop webserver1 and to start it again
 * while it watches the VIP. The real CLI runs under a real pseudo-terminal (`script`), and the test
 * acts as the person: it reads the prompt, stops or starts Apache inside the lab host, presses Enter.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml, stringify } from "yaml";
import { startLab, type Lab } from "../../fixtures/netns/index.js";
import { readRejoinNote } from "../../src/runner/rejoin.js";
import { gradeLab } from "../../src/runner/grade.js";
import type { Prompter } from "../../src/runner/prompter.js";
import type { CheckResult, RunResult } from "../../src/runner/types.js";
import { shQuote } from "../../src/ssh/index.js";
import { gradeOptions, loadLabSpec } from "../helpers/grade.js";

const ROOT = resolve(import.meta.dirname, "../..");
const TSX = join(ROOT, "node_modules/.bin/tsx");

const labs: Lab[] = [];
let correct: Lab;
let cheat: Lab;

beforeAll(async () => {
  const started = await Promise.allSettled([startLab({ variant: "correct" }), startLab({ variant: "single-server-cheat" })]);
  for (const s of started) if (s.status === "fulfilled") labs.push(s.value);
  const failed = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed) throw failed.reason;
  [correct, cheat] = labs as [Lab, Lab];
}, 180_000);

afterAll(async () => {
  await Promise.allSettled(labs.map((l) => l.stop()));
});

/** The lab's spec without any SSH: hagrade can reach the VIP only. */
async function specWithoutSsh(lab: Lab, name: string): Promise<string> {
  const spec = parseYaml(await readFile(lab.specPath, "utf8")) as Record<string, unknown> & { balancer: Record<string, unknown> };
  delete spec.balancer.ssh;
  delete spec.ssh;
  const path = join(lab.stateDir, name);
  await writeFile(path, stringify(spec));
  return path;
}

interface CliRun {
  child: ChildProcessWithoutNullStreams;
  output: () => string;
  /** Resolves once the output (from `from` on) matches `pattern`. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<void>;
  exited: Promise<number>;
}

function hagrade(args: string[], options: { terminal: boolean }): CliRun {
  const command = [TSX, join(ROOT, "src/bin.ts"), ...args];
  const child = options.terminal
    ? // A real pseudo-terminal, as a person's: `script` forwards our pipe to it.
      spawn("script", ["-qfec", command.map(shQuote).join(" "), "/dev/null"], { cwd: ROOT, env: { ...process.env, NO_COLOR: "1" } })
    : spawn(command[0]!, command.slice(1), { cwd: ROOT, env: { ...process.env, NO_COLOR: "1" } });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (out += d));
  const exited = new Promise<number>((done) => child.on("close", (code) => done(code ?? -1)));
  return {
    child,
    output: () => out,
    async waitFor(pattern, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(out)) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no ${pattern} in the output:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    exited,
  };
}

async function failoverCheck(jsonPath: string): Promise<CheckResult> {
  const result = JSON.parse(await readFile(jsonPath, "utf8")) as RunResult;
  return result.checks.find((c) => c.id === "proxy.failover")!;
}

function runArgs(spec: string, lab: Lab, tag: string, extra: string[]): string[] {
  return [
    "run", "--spec", spec, "--part", "proxy", "--lang", "en", "--only", "net.vip-http,proxy.failover",
    "--reporter", "console", "--json", join(lab.stateDir, `${tag}.json`), "--journal-dir", join(lab.stateDir, `${tag}-journal`),
    ...extra,
  ];
}

describe("failover guided by a person (--interactive, no SSH)", () => {
  it("passes on the correct lab: the person stops webserver1, hagrade sees it leave, asks to start it, and says when the balancer takes it back", async () => {
    const spec = await specWithoutSsh(correct, "guided.yaml");
    const cli = hagrade(runArgs(spec, correct, "guided", ["--disruptive", "--interactive"]), { terminal: true });
    try {
      await cli.waitFor(/Stop the web server on webserver1 .*NOW/, 120_000);
      expect((await correct.hostExec("ws1", "service apache2 stop")).code).toBe(0);
      cli.child.stdin.write("\n");
      await cli.waitFor(/Start the web server on webserver1 again/, 120_000);
      expect((await correct.hostExec("ws1", "service apache2 start")).code).toBe(0);
      cli.child.stdin.write("\n");
      expect(await cli.exited, cli.output()).toBe(0);
    } finally {
      cli.child.kill("SIGKILL");
      await correct.hostExec("ws1", "service apache2 start >/dev/null 2>&1 || true");
    }
    const check = await failoverCheck(join(correct.stateDir, "guided.json"));
    expect(check.outcome, check.message.en).toBe("pass");
    const f = check.evidence.find((e) => e.kind === "failover") as Record<string, unknown>;
    // Without --long its return to the balancer (Apache's retry) is announced, not waited for.
    expect(f).toMatchObject({ stoppedBy: "person", victim: "webserver1", rejoinMeasured: false, rejoined: false });
    expect(typeof f.balancerRetryUntil).toBe("string");
    expect(check.message.en).toMatch(/webserver1 was started again\. The balancer sends it traffic again once its retry= runs out/);
    expect(f.failedRequests as number).toBeLessThanOrEqual(1);
    expect(typeof f.detectMs).toBe("number");
    expect((f.events as { what: string }[]).map((e) => e.what)).toEqual(["asked to stop", "stop confirmed", "asked to start", "start confirmed"]);
    // hagrade changed nothing itself: no restore journal, only the note of the balancer's retry for the next grade.
    const journal = join(correct.stateDir, "guided-journal");
    expect(existsSync(journal) ? readdirSync(journal) : []).toEqual(["rejoin"]);
    expect(readRejoinNote(journal, await loadLabSpec(correct.specPath))).toMatchObject({ victim: "webserver1" });
  }, 400_000);

  it("fails the single-server cheat: stopping webserver1 takes webserver2's page down too", async () => {
    const spec = await specWithoutSsh(cheat, "guided.yaml");
    const cli = hagrade(runArgs(spec, cheat, "guided", ["--disruptive", "--interactive", "--lang", "es"]), { terminal: true });
    try {
      await cli.waitFor(/Pare AHORA el servidor web de webserver1/, 120_000);
      await cheat.hostExec("ws1", "service apache2 stop");
      cli.child.stdin.write("\n");
      await cli.waitFor(/Arranque de nuevo el servidor web de webserver1/, 120_000);
      await cheat.hostExec("ws1", "service apache2 start");
      cli.child.stdin.write("\n");
      expect(await cli.exited, cli.output()).toBe(1);
    } finally {
      cli.child.kill("SIGKILL");
      await cheat.hostExec("ws1", "service apache2 start >/dev/null 2>&1 || true");
    }
    const check = await failoverCheck(join(cheat.stateDir, "guided.json"));
    expect(check.outcome, check.message.en).toBe("fail");
    expect(check.message.en).toMatch(/both pages come from one server/);
    expect(check.message.es).toMatch(/ambas páginas salen de un mismo servidor/);
  }, 400_000);

  it("skips with the reason when there is no terminal to ask, or no --interactive", async () => {
    const spec = await specWithoutSsh(correct, "guided.yaml");
    const piped = hagrade(runArgs(spec, correct, "piped", ["--disruptive", "--interactive"]), { terminal: false });
    piped.child.stdin.end();
    await piped.exited;
    const noTerminal = await failoverCheck(join(correct.stateDir, "piped.json"));
    expect(noTerminal.outcome).toBe("skipped");
    expect(noTerminal.message.en).toMatch(/--interactive needs a terminal/);
    expect(piped.output()).not.toMatch(/Stop the web server/);

    const plain = hagrade(runArgs(spec, correct, "plain", ["--disruptive"]), { terminal: true });
    plain.child.stdin.end();
    await plain.exited;
    const noInteractive = await failoverCheck(join(correct.stateDir, "plain.json"));
    expect(noInteractive.outcome).toBe("skipped");
    expect(noInteractive.message.en).toMatch(/SSH/);
    expect(await correct.hostExec("ws1", "curl -s -m 3 http://127.0.0.1/")).toMatchObject({ code: 0 });
  }, 120_000);

  it("guides the person when SSH to webserver1 does not work, and says it is still stopped when never started again", async () => {
    const spec = await loadLabSpec(correct.specPath);
    // The balancer answers SSH, webserver1 does not (as a Windows web server without sshd).
    spec.backends[0]!.ssh = { port: 2222 };
    spec.timeouts.rejoin = 3000;
    const asked: string[] = [];
    // A person who stops the server when asked and then walks away.
    const person: Prompter = {
      canAsk: true,
      say: (m) => asked.push(m.en),
      async waitForEnter(m) {
        asked.push(m.en);
        if (!/^Stop/.test(m.en)) return "timeout";
        await correct.hostExec("ws1", "service apache2 stop");
        return "confirmed";
      },
      close() {},
    };
    let result: RunResult;
    try {
      result = await gradeLab(spec, gradeOptions({
        part: "proxy",
        disruptive: true,
        interactive: true,
        prompter: person,
        // The first test's journal folder: its note makes this grade wait until the balancer takes webserver1 back.
        journalDir: join(correct.stateDir, "guided-journal"),
        only: ["net.vip-http", "proxy.failover"],
      }));
    } finally {
      await correct.hostExec("ws1", "service apache2 start >/dev/null 2>&1 || true");
    }
    expect(asked.map((a) => a.split(" ").slice(0, 3).join(" "))).toEqual(["Stop the web", "Start the web"]);
    expect(result.notes.map((n) => n.en).join("\n")).toMatch(/waited \d+ s for the balancer to send webserver1 traffic again, stopped by a previous grade's failover/);
    const check = result.checks.find((c) => c.id === "proxy.failover")!;
    expect(check.outcome, check.message.en).toBe("inconclusive");
    expect(check.message.en).toMatch(/webserver1's web server seems to be still stopped/);
    expect(check.fix?.en).toMatch(/Start webserver1's web server again/);
    const f = check.evidence.find((e) => e.kind === "failover") as Record<string, unknown>;
    expect(f).toMatchObject({ stoppedBy: "person", rejoined: false });
    expect(check.evidence.some((e) => e.kind === "restore")).toBe(false);
  }, 300_000);
});
