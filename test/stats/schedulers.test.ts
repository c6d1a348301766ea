import { describe, expect, it } from "vitest";
import {
  apacheByrequestsOrder,
  createLvsWrr,
  isAlternating,
  keepAliveBehaviour,
  leastRotation,
  longestRun,
  lvsRrOrder,
  lvsWrrOrder,
  primitivePeriod,
  schedulerCycle,
} from "../../src/stats/index.js";

const count = (order: number[], index: number): number => order.filter((i) => i === index).length;

describe("scheduler orders (LAB-FACTS)", () => {
  it("Apache byrequests 3:1 is the smooth cycle 1121, exactly 300/100 over 400", () => {
    expect(apacheByrequestsOrder([3, 1], 8)).toEqual([0, 0, 1, 0, 0, 0, 1, 0]);
    const order = apacheByrequestsOrder([3, 1], 400);
    expect([count(order, 0), count(order, 1)]).toEqual([300, 100]);
    expect(apacheByrequestsOrder([1, 1], 4)).toEqual([0, 1, 0, 1]);
  });

  it("LVS wrr 3:1 gives 9:3 over 12 connections, the cycle 2,1,1,1 read from another phase", () => {
    const order = lvsWrrOrder([3, 1], 12);
    expect([count(order, 0), count(order, 1)]).toEqual([9, 3]);
    expect(order.slice(3, 7)).toEqual([1, 0, 0, 0]);
    expect(lvsWrrOrder([6, 2], 8)).toEqual(lvsWrrOrder([3, 1], 8));
    expect(lvsWrrOrder([1, 1], 4)).toEqual([0, 1, 0, 1]);
  });

  it("IPVS rr ignores weights above 0 and skips quiesced servers, in list order", () => {
    expect(lvsRrOrder([3, 1], 4)).toEqual([0, 1, 0, 1]);
    expect(lvsRrOrder([3, 0, 1], 4, [2, 0, 1])).toEqual([2, 0, 2, 0]);
    expect(lvsRrOrder([0, 0], 4)).toEqual([]);
  });

  it("IPVS wrr with every weight 0 schedules nothing (the kernel's mw = 0)", () => {
    expect(lvsWrrOrder([0, 0], 5)).toEqual([]);
    expect(lvsWrrOrder([0, 2], 3)).toEqual([1, 1, 1]);
  });

  it("Apache byrequests breaks ties by member order", () => {
    expect(apacheByrequestsOrder([1, 1], 4, [1, 0])).toEqual([1, 0, 1, 0]);
    expect(apacheByrequestsOrder([2, 1, 1], 4)).toEqual([0, 1, 2, 0]);
  });

  it("after an edit of the weights, IPVS wrr goes on along a rotation of the new cycle", () => {
    for (const [before, after, taken] of [
      [[3, 1], [1, 2], 2],
      [[5, 3], [4, 6], 5],
      [[2, 2, 1], [3, 1, 2], 4],
      [[6, 3], [2, 8], 1],
    ] as const) {
      const scheduler = createLvsWrr(before);
      for (let i = 0; i < taken; i++) scheduler.next();
      scheduler.edit(after);
      const picks = Array.from({ length: 40 }, () => scheduler.next() ?? -1);
      const cycle = Array.from(schedulerCycle("lvs-wrr", after));
      const rotations = cycle.map((_, r) => Array.from({ length: 40 }, (_, i) => cycle[(r + i) % cycle.length]));
      expect(rotations, `${before.join(":")} → ${after.join(":")}`).toContainEqual(picks);
    }
  });

  it("one cycle per scheduler, cut to its shortest period; least rotation names it", () => {
    expect(Array.from(schedulerCycle("lvs-wrr", [6, 2]))).toEqual([0, 0, 0, 1]);
    expect(Array.from(schedulerCycle("apache-byrequests", [3, 1]))).toEqual([0, 0, 1, 0]);
    expect(Array.from(schedulerCycle("lvs-rr", [3, 1]))).toEqual([0, 1]);
    expect(primitivePeriod([1, 2, 1, 2])).toBe(2);
    expect(primitivePeriod([1, 2, 1])).toBe(3);
    expect(leastRotation([1, 0, 0, 2])).toBe(1);
  });

  it("longest run counts across the cycle boundary", () => {
    expect(longestRun([0, 0, 1, 0])).toBe(3);
    expect(longestRun([0, 1])).toBe(1);
    expect(longestRun([0, 0, 0])).toBe(3);
  });
});

describe("keep-alive behaviour", () => {
  it("isAlternating: strict alternation only", () => {
    expect(isAlternating(["1", "2", "1", "2"])).toBe(true);
    expect(isAlternating(["1", "1", "2", "1"])).toBe(false);
    expect(isAlternating(["1"])).toBe(false);
  });

  it("Apache on one connection changes backend; LVS stays pinned", () => {
    const weights = { "1": 3, "2": 1 };
    expect(keepAliveBehaviour(["1", "1", "2", "1", "1"], weights).behaviour).toBe("changes-per-request");
    // byrequests 3:1 may give backend 1 three times in a row, so four are needed to say pinned.
    expect(keepAliveBehaviour(["1", "1", "1"], weights)).toMatchObject({ behaviour: "undecided", pinnedAfter: 4 });
    expect(keepAliveBehaviour(["1", "1", "error", "1", "1"], weights)).toMatchObject({ behaviour: "pinned", nValid: 4, n: 5 });
    expect(keepAliveBehaviour(["1", "2"], { "1": 1, "2": 1 })).toMatchObject({ behaviour: "changes-per-request", switches: 1 });
    expect(keepAliveBehaviour(["2", "2"], { "1": 1, "2": 1 }).behaviour).toBe("pinned");
  });
});
