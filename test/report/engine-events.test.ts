/**
 * The engine fires every reporter event itself, the run's end included: a program that calls
 * gradeLab(spec, { reporters }) gets its files without calling anything by hand. Graded against a
 * real Apache 2.4 balancer over two real HTTP servers on loopback (no SSH, no namespace lab).
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { htmlReporter } from "../../src/report/html.js";
import { jsonReporter } from "../../src/report/json.js";
import { junitReporter } from "../../src/report/junit.js";
import type { Reporter } from "../../src/report/reporter.js";
import { gradeLab } from "../../src/runner/grade.js";
import type { RunResult, Text } from "../../src/runner/types.js";
import { gradeOptions } from "../helpers/grade.js";
import { loopbackSpec, startLoopbackLab, type LoopbackLab } from "../probe/loopback-lab.js";

const CHECKS = ["net.vip-http", "net.two-backends", "proxy.round-robin", "proxy.loadfactor"];

type Event = { on: "begin" } | { on: "check-begin"; id: string } | { on: "progress"; id: string; progress: Text } | { on: "check-end"; id: string } | { on: "end"; result: RunResult };

function recorder(events: Event[]): Reporter {
  return {
    onBegin: () => events.push({ on: "begin" }),
    onCheckBegin: (c) => events.push({ on: "check-begin", id: c.id }),
    onCheckProgress: (id, progress) => events.push({ on: "progress", id, progress }),
    onCheckEnd: (r) => events.push({ on: "check-end", id: r.id }),
    onEnd: (result) => {
      events.push({ on: "end", result });
    },
  };
}

describe("reporter events fired by the engine", () => {
  let lab: LoopbackLab;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hagrade-events-"));
    lab = await startLoopbackLab(40);
  });
  afterAll(async () => {
    await lab?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("fires begin → (check begin, progress*, check end)* → end, and returns the files its reporters wrote", async () => {
    const spec = await loopbackSpec(lab.apache, [lab.ws1, lab.ws2], { lab: "loopback-events" });
    const events: Event[] = [];
    const files = { json: join(dir, "result.json"), junit: join(dir, "junit.xml"), html: join(dir, "scorecard.html") };
    const result = await gradeLab(spec, gradeOptions({
      lang: "es",
      journalDir: dir,
      only: CHECKS,
      // One check after another: the order of the events is then the order of the checks.
      sequential: true,
      reporters: [recorder(events), jsonReporter(files.json), junitReporter(files.junit, { lang: "es" }), htmlReporter(files.html, { lang: "es" })],
    }));
    expect(result.checks.map((c) => [c.id, c.outcome])).toEqual(CHECKS.map((id) => [id, "pass"]));

    const order = events.filter((e) => e.on !== "progress").map((e) => (e.on === "begin" || e.on === "end" ? e.on : `${e.on}:${e.id}`));
    expect(order).toEqual(["begin", ...result.checks.flatMap((c) => [`check-begin:${c.id}`, `check-end:${c.id}`]), "end"]);
    const end = events.at(-1);
    expect(end?.on === "end" && end.result).toBe(result);

    // Progress comes between its check's begin and end, in both languages.
    const progress = events.flatMap((e, i) => (e.on === "progress" ? [{ ...e, i }] : []));
    expect(progress.length).toBeGreaterThan(0);
    for (const p of progress) {
      const begin = events.findIndex((e) => e.on === "check-begin" && e.id === p.id);
      const endOf = events.findIndex((e) => e.on === "check-end" && e.id === p.id);
      expect(begin).toBeLessThan(p.i);
      expect(p.i).toBeLessThan(endOf);
    }
    // The keep-alive sample is taken once, by the first check that reads it.
    const sampling = progress.find((p) => p.progress.en.includes('"keep-alive"'));
    expect(sampling?.progress.es).toMatch(/^muestra «conexión persistente» \d+\/400$/);
    expect(sampling?.progress.en).toMatch(/^sampling "keep-alive" \d+\/400$/);

    // The end was fired by the engine: the files exist, and the run says which.
    expect([...result.reportsWritten].sort()).toEqual(Object.values(files).sort());
    for (const file of Object.values(files)) expect(existsSync(file), file).toBe(true);
    const saved = JSON.parse(await readFile(files.json, "utf8")) as RunResult & { reportsWritten?: unknown };
    expect(saved.checks.map((c) => c.id)).toEqual(CHECKS);
    // The list of files is not part of the saved result's schema.
    expect(saved.reportsWritten).toBeUndefined();
    expect(Object.keys(result)).not.toContain("reportsWritten");
  });

  it("without reporters, writes nothing and says so", async () => {
    const spec = await loopbackSpec(lab.apache, [lab.ws1, lab.ws2], { lab: "loopback-events" });
    const result = await gradeLab(spec, gradeOptions({ journalDir: dir, only: ["net.vip-http"] }));
    expect(result.checks.map((c) => c.outcome)).toEqual(["pass"]);
    expect(result.reportsWritten).toEqual([]);
  });
});
