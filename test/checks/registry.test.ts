/** The rubric's registry against the contracts that lean on it: check ids, titles, points, labs' expectation files. */
import { describe, expect, it } from "vitest";
import { ALL_CHECKS, checksForPart } from "../../checks/index.js";
import { referenceCheckIds } from "../../fixtures/netns/index.js";
import { variantCheckIds } from "../../fixtures/vm/index.js";

describe("rubric registry", () => {
  it("has unique ids, titles in both languages, positive points, and dependencies that exist", () => {
    const ids = ALL_CHECKS.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const c of ALL_CHECKS) {
      expect(c.id).toMatch(/^(net|proxy|lvs)\.[a-z0-9-]+$/);
      expect(c.title.es.length, c.id).toBeGreaterThan(5);
      expect(c.title.en.length, c.id).toBeGreaterThan(5);
      expect(c.title.es, c.id).not.toBe(c.title.en);
      expect(c.points, c.id).toBeGreaterThan(0);
      for (const d of c.dependsOn ?? []) expect(ids, `${c.id} depends on ${d}`).toContain(d);
      if (c.needs.includes("disruptive")) expect(c.needs, c.id).toContain("ssh");
    }
  });

  it("grades Part 2 with exactly the ids the namespace lab's variants speak of", () => {
    expect(checksForPart("proxy").map((c) => c.id).sort()).toEqual([...referenceCheckIds].sort());
  });

  it("grades Part 1 with ids the VM lab's variants speak of", () => {
    const lvs = checksForPart("lvs").map((c) => c.id);
    const known = new Set<string>(variantCheckIds());
    for (const id of lvs) expect(known, id).toContain(id);
  });
});
