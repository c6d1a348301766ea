/** Flakiness: ten back-to-back grades of the correct lab give the same, full score. */
import { afterAll, beforeAll, expect, it } from "vitest";
import { startLab, type Lab } from "../../fixtures/netns/index.js";
import { loadSpec } from "../../src/config/index.js";
import { gradeLab } from "../../src/runner/grade.js";

let lab: Lab;
beforeAll(async () => {
  lab = await startLab({ variant: "correct" });
}, 120_000);
afterAll(async () => {
  await lab?.stop();
});

it("grades the correct lab ten times in a row with the same full score", async () => {
  const loaded = await loadSpec(lab.specPath);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  const scores: string[] = [];
  for (let i = 0; i < 10; i++) {
    const r = await gradeLab(loaded.spec, {
      lang: "en",
      part: "proxy",
      disruptive: false,
      long: false,
      interactive: false,
      acceptNewHostKeys: false,
      journalDir: `${lab.stateDir}/journal`,
    });
    const notPassed = r.checks.filter((c) => c.outcome !== "pass" && c.outcome !== "skipped").map((c) => `${c.id}: ${c.message.en}`);
    expect(notPassed, `run ${i + 1}`).toEqual([]);
    scores.push(`${r.score}/${r.maxScore}`);
  }
  expect(new Set(scores).size).toBe(1);
  expect(scores[0]).toBe("14/14");
}, 300_000);
