/**
 * proxy.failover (disruptive) on every Part 2 variant of the netns lab: each variant gets the
 * verdict variants.json states, a failing one says what to fix in both languages, and every
 * grade leaves the stopped web server serving its page again (restore verified, no journal
 * left). By default the restore is verified on the server itself and the balancer's return
 * (Apache's retry, 60 s) is only announced and noted for the next grade; with --long it is
 * measured. On the correct lab also: without --disruptive nothing is touched, --long measures
 * the rejoin, a rejoin bound shorter than Apache's retry is not a pass, and the JSON result
 * carries the timeline. Labs run side by side.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listVariants, startLab, type Lab } from "../../fixtures/netns/index.js";
import type { SpecOverrides } from "../../src/config/index.js";
import { readRejoinNote } from "../../src/runner/rejoin.js";
import { MAX_FAILED, REQUEST_LOOPS } from "../../checks/proxy/failover.js";
import { jsonReporter } from "../../src/report/json.js";
import { gradeLab } from "../../src/runner/grade.js";
import type { CheckResult, RunResult } from "../../src/runner/types.js";
import { gradeOptions, loadLabSpec } from "../helpers/grade.js";

/** No longer waiting out Apache's retry, failovers are short: more labs at once would only stop Apache side by side and slow each stop. */
const PARALLEL_LABS = 3;
/** proxy.failover and the one check it depends on. */
const ONLY = ["net.vip-http", "proxy.failover"];
/** Rejoin bound of the short-bound run: well under Apache's 60 s retry. */
const SHORT_REJOIN_MS = 5000;

interface Graded {
  result: RunResult;
  /** ws1's page fetched inside ws1, before and after the grade. */
  pageBefore: string;
  pageAfter: string;
  /** Journal files still pending after the grade. */
  pendingJournals: string[];
  /** Whether the grade left a note that the balancer still keeps ws1 out. */
  rejoinNoted: boolean;
}

interface GateRun {
  result: RunResult;
  apacheBefore: string;
  apacheAfter: string;
  journalFiles: string[];
}

const variants = listVariants();
const tmp = mkdtempSync(join(tmpdir(), "hagrade-failover-variants-"));
const labs = new Set<Lab>();
const graded = new Map<string, Graded>();
let shortRejoin: Graded | undefined;
let measuredRejoin: Graded | undefined;
let gate: GateRun | undefined;
/** A second correct lab, graded with --long: the rejoin measured, then a bound shorter than retry. */
const LONG = "correct --long";

async function localPage(lab: Lab): Promise<string> {
  return (await lab.hostExec("ws1", "curl -s -m 3 http://127.0.0.1/ || true")).stdout;
}

/** ws1's Apache master: its PID and start time (a restart changes both). */
async function apacheMaster(lab: Lab): Promise<string> {
  const r = await lab.hostExec("ws1", "pid=$(pgrep -o -x apache2) && echo \"$pid $(cut -d' ' -f22 /proc/$pid/stat)\"");
  return r.stdout.trim();
}

function jsonFiles(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".json")) : [];
}

async function grade(lab: Lab, journalDir: string, options: { disruptive: boolean; long?: boolean }, overrides?: SpecOverrides): Promise<RunResult> {
  return gradeLab(
    await loadLabSpec(lab.specPath, overrides),
    gradeOptions({ part: "proxy", disruptive: options.disruptive, long: options.long ?? false, journalDir, only: ONLY }),
  );
}

async function gradeDisruptive(lab: Lab, journalDir: string, long = false, overrides?: SpecOverrides): Promise<Graded> {
  const pageBefore = await localPage(lab);
  const result = await grade(lab, journalDir, { disruptive: true, long }, overrides);
  const spec = await loadLabSpec(lab.specPath);
  return { result, pageBefore, pageAfter: await localPage(lab), pendingJournals: jsonFiles(journalDir), rejoinNoted: readRejoinNote(journalDir, spec) !== undefined };
}

/** The correct lab also runs the --disruptive gate first; the LONG job measures the rejoin, then a short rejoin bound. */
async function gradeVariant(lab: Lab, variant: string): Promise<void> {
  const journalDir = join(tmp, variant);
  if (variant === LONG) {
    measuredRejoin = await gradeDisruptive(lab, journalDir, true);
    shortRejoin = await gradeDisruptive(lab, join(tmp, "correct-short-rejoin"), true, { timeouts: { rejoin: SHORT_REJOIN_MS } });
    return;
  }
  if (variant === "correct") {
    const apacheBefore = await apacheMaster(lab);
    const result = await grade(lab, journalDir, { disruptive: false });
    gate = { result, apacheBefore, apacheAfter: await apacheMaster(lab), journalFiles: existsSync(journalDir) ? readdirSync(journalDir) : [] };
  }
  graded.set(variant, await gradeDisruptive(lab, journalDir));
}

beforeAll(async () => {
  // Variants that wait out Apache's retry first, the quick ones (dead VIP, failover failing early) last.
  const quick = new Set(["no-proxy-http", "rhel-no-proxy-http", "one-backend-down", "same-page", "single-server-cheat"]);
  const queue = [
    { name: LONG, lab: "correct" },
    ...variants.filter((v) => !quick.has(v.name)).map((v) => ({ name: v.name, lab: v.name })),
    ...variants.filter((v) => quick.has(v.name)).map((v) => ({ name: v.name, lab: v.name })),
  ];
  // Every worker runs to the end even if another failed, so no lab is left behind.
  const workers = await Promise.allSettled(
    Array.from({ length: PARALLEL_LABS }, async () => {
      for (let v = queue.shift(); v; v = queue.shift()) {
        const lab = await startLab({ variant: v.lab });
        labs.add(lab);
        try {
          await gradeVariant(lab, v.name);
        } finally {
          await lab.stop();
        }
      }
    }),
  );
  const failed = workers.find((w): w is PromiseRejectedResult => w.status === "rejected");
  if (failed) throw failed.reason;
}, 900_000);

afterAll(async () => {
  await Promise.allSettled([...labs].map((l) => l.stop()));
  rmSync(tmp, { recursive: true, force: true });
});

function failoverOf(result: RunResult): CheckResult {
  const check = result.checks.find((c) => c.id === "proxy.failover");
  if (!check) throw new Error(`no proxy.failover in ${result.checks.map((c) => c.id).join(", ")}`);
  return check;
}

function evidenceOf<T>(check: CheckResult, kind: string): T | undefined {
  return check.evidence.find((e) => e.kind === kind) as T | undefined;
}

/** A "must fail" check may also be skipped, but only because a check it depends on did not pass. */
function skippedByDependency(check: CheckResult): boolean {
  return check.outcome === "skipped" && check.evidence.some((e) => e.kind === "dependency");
}

/** What each failing variant's message and fix must name (English; Spanish is checked to differ). */
const NAMES_THE_FAULT: Record<string, { message: RegExp; fix: RegExp }> = {
  "one-backend-down": { message: /the VIP failed \d+ of \d+ requests/, fix: /webserver2 is in the balancer and serves its page/ },
  "same-page": { message: /webserver2 serves webserver1's page/, fix: /its own page/ },
  "no-cookie-header": { message: /ROUTEID=\.wsrv1 got no new cookie for webserver2/, fix: /Header add Set-Cookie "ROUTEID=\.%\{BALANCER_WORKER_ROUTE\}e; path=\/" env=BALANCER_ROUTE_CHANGED/ },
  "single-server-cheat": { message: /both pages come from one server/, fix: /different web server/ },
  "duplicate-route": { message: /webserver2 issues the same route as webserver1 \(ROUTEID=\.wsrv1\)/, fix: /route=wsrv2 on webserver2's/ },
};

describe("proxy.failover on every Part 2 variant", () => {
  it("every variant states a verdict for proxy.failover", () => {
    for (const v of variants) expect([...v.expect.pass, ...v.expect.fail], v.name).toContain("proxy.failover");
  });

  describe.each(variants.map((v) => [v.name, v] as const))("variant %s", (name, variant) => {
    it("gets the verdict variants.json states", () => {
      const { result } = graded.get(name)!;
      const check = failoverOf(result);
      const seen = `${check.outcome} — ${check.message.en}`;
      if (variant.expect.pass.includes("proxy.failover")) {
        expect(check.outcome, seen).toBe("pass");
        const summary = evidenceOf<{ detectMs: unknown; rejoinMeasured: boolean; balancerRetryUntil: unknown; failedRequests: number }>(check, "failover")!;
        expect(typeof summary.detectMs).toBe("number");
        // One after the stop returned, plus up to one per request loop while the web server's Apache stopped.
        expect(summary.failedRequests).toBeLessThanOrEqual(MAX_FAILED + REQUEST_LOOPS);
        // Without --long the balancer's return is announced and noted, not waited for.
        expect(summary.rejoinMeasured).toBe(false);
        expect(typeof summary.balancerRetryUntil).toBe("string");
        expect(graded.get(name)!.rejoinNoted).toBe(true);
      } else if (skippedByDependency(check)) expect(result.checks.find((c) => c.id === "net.vip-http")?.outcome, seen).toBe("fail");
      else expect(check.outcome, seen).toBe("fail");
    });

    it("says what was wrong and how to fix it, in Spanish and English", () => {
      const check = failoverOf(graded.get(name)!.result);
      if (check.outcome !== "fail") return;
      expect(check.message.es).not.toEqual(check.message.en);
      expect(check.fix?.es.length ?? 0, "fix in Spanish").toBeGreaterThan(10);
      expect(check.fix?.en.length ?? 0, "fix in English").toBeGreaterThan(10);
      expect(check.fix?.es).not.toEqual(check.fix?.en);
      const names = NAMES_THE_FAULT[name];
      if (names) {
        expect(check.message.en).toMatch(names.message);
        expect(check.fix?.en).toMatch(names.fix);
      }
    });

    it("leaves the lab as it was: the stopped web server serves its page again", () => {
      const run = graded.get(name)!;
      const check = failoverOf(run.result);
      const restore = evidenceOf<{ restored: boolean; status: string }>(check, "restore");
      // Only a failover that never stopped anything (its dependency failed) has no restore to show.
      if (skippedByDependency(check)) expect(restore).toBeUndefined();
      else expect(restore, check.message.en).toMatchObject({ restored: true, status: "verified" });
      expect(run.pageBefore).toContain("Bienvenido a webserver1");
      expect(run.pageAfter).toBe(run.pageBefore);
      expect(run.pendingJournals).toEqual([]);
    });
  });
});

describe("proxy.failover on the correct lab", () => {
  it("without --disruptive is skipped with that reason and touches nothing", () => {
    const check = failoverOf(gate!.result);
    expect(check.outcome).toBe("skipped");
    expect(check.message.es).toContain("--disruptive");
    expect(check.message.en).toContain("--disruptive");
    expect(check.message.es).not.toEqual(check.message.en);
    expect(gate!.apacheBefore).toMatch(/^\d+ \d+$/);
    expect(gate!.apacheAfter).toBe(gate!.apacheBefore);
    expect(gate!.journalFiles).toEqual([]);
  });

  it("by default verifies the restore on the server itself and says when the balancer takes it back, without waiting for it", () => {
    const { result, rejoinNoted } = graded.get("correct")!;
    const check = failoverOf(result);
    expect(check.outcome, check.message.en).toBe("pass");
    expect(check.message.en).toMatch(/webserver1 serves its page locally again \(verified\)\. The balancer sends it traffic again once its retry= runs out \(60 s by default\), in about \d+ s; --long measures that return\./);
    expect(check.message.es).toMatch(/webserver1 vuelve a servir su página en local \(comprobado\)\. El balanceador le enviará tráfico de nuevo cuando venza su retry= \(60 s por defecto\), en unos \d+ s; --long mide esa vuelta\./);
    const summary = evidenceOf<{ rejoinMeasured: boolean; rejoined: boolean; rejoinMs: unknown; balancerRetryUntil: string }>(check, "failover")!;
    expect(summary).toMatchObject({ rejoinMeasured: false, rejoined: false, rejoinMs: null });
    // Apache's retry counted from the failure: the check ended before it ran out, and it is due within a minute.
    const end = Date.parse(check.startedAt) + check.durationMs;
    const due = Date.parse(summary.balancerRetryUntil) - end;
    expect(due).toBeGreaterThan(0);
    expect(due).toBeLessThanOrEqual(60_000);
    expect(rejoinNoted).toBe(true);
  });

  it("with --long measures detection, failed requests and the rejoin, and writes the timeline into the JSON result", async () => {
    const { result, rejoinNoted } = measuredRejoin!;
    expect(rejoinNoted).toBe(false);
    const check = failoverOf(result);
    expect(check.outcome, check.message.en).toBe("pass");
    const summary = evidenceOf<{ detectMs: unknown; rejoinMs: unknown; failedRequests: number; rejoined: boolean }>(check, "failover")!;
    expect(typeof summary.detectMs).toBe("number");
    expect(typeof summary.rejoinMs).toBe("number");
    // One after the stop returned, plus up to one per request loop while the web server's Apache stopped.
    expect(summary.failedRequests).toBeLessThanOrEqual(MAX_FAILED + REQUEST_LOOPS);
    expect(summary.rejoined).toBe(true);
    expect(check.message.en).toMatch(/webserver1 got traffic again [\d.]+ s after it started/);

    const path = join(tmp, "correct-result.json");
    await jsonReporter(path).onEnd?.(result);
    const written = JSON.parse(readFileSync(path, "utf8")) as RunResult;
    const timeline = (failoverOf(written).evidence.find((e) => e.kind === "failover") as { timeline?: Record<string, unknown>[] } | undefined)?.timeline ?? [];
    expect(timeline.length).toBeGreaterThan(20);
    for (const mark of timeline) {
      expect(typeof mark.t).toBe("number");
      expect(typeof mark.label).toBe("string");
      expect(typeof mark.status === "number" || typeof mark.error === "string", JSON.stringify(mark)).toBe(true);
    }
    const labels = new Set(timeline.map((m) => m.label));
    expect(labels).toContain("webserver1");
    expect(labels).toContain("webserver2");
  });

  it("with --long and a rejoin bound shorter than Apache's retry is inconclusive, names retry=, and still restores", () => {
    const run = shortRejoin!;
    const check = failoverOf(run.result);
    expect(check.outcome, check.message.en).toBe("inconclusive");
    const seconds = `${SHORT_REJOIN_MS / 1000} s`;
    expect(check.message.en).toContain(`no traffic within ${seconds}`);
    expect(check.message.es).toContain(`tráfico en ${seconds}`);
    expect(check.message.en).toContain("retry=");
    expect(check.message.es).toContain("retry=");
    expect(check.fix?.en).toContain("timeouts.rejoin");
    expect(check.fix?.es).toContain("timeouts.rejoin");
    expect(evidenceOf<{ rejoined: boolean }>(check, "failover")?.rejoined).toBe(false);
    expect(evidenceOf(check, "restore")).toMatchObject({ restored: true, status: "verified" });
    expect(run.pageAfter).toBe(run.pageBefore);
    expect(run.pageAfter).toContain("Bienvenido a webserver1");
    expect(run.pendingJournals).toEqual([]);
  });
});
