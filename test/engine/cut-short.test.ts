/**
 * A check cut short by the lab's budget says where it was: its verdict's message and its
 * `budget` evidence carry the last progress line (the sample and how far it got), in both
 * languages, and the HTML scorecard shows it. A real Apache balancer over two real HTTP servers
 * on loopback, sampled slowly enough to be cut in the middle.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { htmlReporter } from "../../src/report/html.js";
import type { Reporter } from "../../src/report/reporter.js";
import { gradeLab } from "../../src/runner/grade.js";
import type { RunResult } from "../../src/runner/types.js";
import { gradeOptions } from "../helpers/grade.js";
import { loopbackSpec, startLoopbackLab, type LoopbackLab } from "../probe/loopback-lab.js";

describe("a check cut short by the budget", () => {
  let lab: LoopbackLab;
  let dir: string;
  let result: RunResult;
  let cutId: string | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hagrade-cut-short-"));
    lab = await startLoopbackLab(80);
    // 20 requests a second: a 400-request sample would take 20 s; the budget ends it at 10.
    const spec = await loopbackSpec(lab.apache, [lab.ws1, lab.ws2], {
      sampling: { maxRequests: 400, ratePerSecond: 20 },
    });
    const budget = new AbortController();
    const cutter: Reporter = {
      onCheckProgress(checkId, progress) {
        if (cutId === undefined && /sampling ".*" 10\//.test(progress.en)) {
          cutId = checkId;
          budget.abort();
        }
      },
    };
    result = await gradeLab(spec, gradeOptions({
      journalDir: dir,
      signal: budget.signal,
      reporters: [cutter, htmlReporter(join(dir, "index.html"), { lang: "en" })],
    }));
  }, 120_000);

  afterAll(async () => {
    await lab?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("is inconclusive, and its message names the sample and how far it got, in es and en", () => {
    expect(cutId).toBeDefined();
    const check = result.checks.find((c) => c.id === cutId)!;
    expect(check.outcome).toBe("inconclusive");
    expect(check.message.en).toMatch(/Cut while: sampling ".*" 10\/\d+\.$/);
    expect(check.message.es).toMatch(/Se cortó en: muestra «.*» 10\/\d+\.$/);
    const budget = check.evidence.find((e) => e.kind === "budget");
    expect(budget?.doing).toEqual({ es: expect.stringMatching(/^muestra «/), en: expect.stringMatching(/^sampling "/) });
  });

  it("leaves the checks that were never cut without a progress line", () => {
    for (const check of result.checks.filter((c) => c.id !== cutId)) {
      expect(check.message.en, check.id).not.toContain("Cut while");
    }
  });

  it("shows where it was cut in the HTML scorecard", async () => {
    const html = await readFile(join(dir, "index.html"), "utf8");
    expect(html).toMatch(/Cut while: sampling (&quot;|")/);
  });
});
