import { describe, expect, it } from "vitest";
import { createRandom } from "../../src/stats/index.js";

describe("createRandom", () => {
  it("repeats its sequence for a seed and differs between seeds", () => {
    const a = createRandom(42);
    const b = createRandom(42);
    const c = createRandom(43);
    const xs = Array.from({ length: 100 }, () => a.next());
    expect(Array.from({ length: 100 }, () => b.next())).toEqual(xs);
    expect(Array.from({ length: 100 }, () => c.next())).not.toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it("draws with the requested shares (within 5 standard deviations)", () => {
    const random = createRandom(7);
    const counts = [0, 0, 0];
    const n = 200_000;
    for (let i = 0; i < n; i++) counts[random.pick([3, 1, 0])]! += 1;
    expect(counts[2]).toBe(0);
    const sd = Math.sqrt(n * 0.75 * 0.25);
    expect(Math.abs((counts[0] ?? 0) - 0.75 * n)).toBeLessThan(5 * sd);
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < n; i++) buckets[random.int(10)]! += 1;
    const chi2 = buckets.reduce((s, c) => s + (c - n / 10) ** 2 / (n / 10), 0);
    // χ²(9) exceeds 33.7 with probability 1e-4.
    expect(chi2).toBeLessThan(33.7);
  });
});
