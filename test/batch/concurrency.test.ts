/**
 * How many labs a batch grades at once by default: bound by the memory available now and by a
 * fixed ceiling, not by cores (grading waits on the network).
 */
import { describe, expect, it } from "vitest";
import { CONCURRENCY_CEILING, concurrencyFor, defaultConcurrency, LAB_GRADING_BYTES, machineRoom } from "../../src/batch/index.js";

const MiB = 2 ** 20;
const GiB = 2 ** 30;

describe("default batch concurrency", () => {
  it("grades a class of 30 in one round on a machine with memory to spare, whatever its cores", () => {
    for (const cores of [1, 2, 4, 64]) {
      expect(concurrencyFor({ freeMemoryBytes: 20 * GiB, totalMemoryBytes: 24 * GiB, cores })).toBe(CONCURRENCY_CEILING);
    }
    expect(CONCURRENCY_CEILING).toBeGreaterThanOrEqual(30);
  });

  it("takes at most half the available memory, at LAB_GRADING_BYTES a lab", () => {
    expect(LAB_GRADING_BYTES).toBe(32 * MiB);
    // 512 MiB available: 256 MiB for the batch, 8 labs.
    expect(concurrencyFor({ freeMemoryBytes: 512 * MiB, totalMemoryBytes: 4 * GiB, cores: 16 })).toBe(8);
    // Just under 10 labs' worth in half: 9.
    expect(concurrencyFor({ freeMemoryBytes: 20 * LAB_GRADING_BYTES - 1, totalMemoryBytes: 8 * GiB, cores: 2 })).toBe(9);
    expect(concurrencyFor({ freeMemoryBytes: 20 * LAB_GRADING_BYTES, totalMemoryBytes: 8 * GiB, cores: 2 })).toBe(10);
  });

  it("never fewer than one lab, even with no memory to spare", () => {
    expect(concurrencyFor({ freeMemoryBytes: 10 * MiB, totalMemoryBytes: 1 * GiB, cores: 8 })).toBe(1);
    expect(concurrencyFor({ freeMemoryBytes: 0, totalMemoryBytes: 1 * GiB, cores: 8 })).toBe(1);
  });

  it("reads no more free memory than the machine has", () => {
    expect(concurrencyFor({ freeMemoryBytes: 64 * GiB, totalMemoryBytes: 256 * MiB, cores: 2 })).toBe(4);
  });

  it("keeps to a lower ceiling when given one", () => {
    expect(concurrencyFor({ freeMemoryBytes: 20 * GiB, totalMemoryBytes: 24 * GiB, cores: 2 }, 12)).toBe(12);
    expect(concurrencyFor({ freeMemoryBytes: 20 * GiB, totalMemoryBytes: 24 * GiB, cores: 2 }, 0)).toBe(1);
  });

  it("falls back to two per core (2 to 8) when the machine reports no memory", () => {
    expect(concurrencyFor({ freeMemoryBytes: 0, totalMemoryBytes: 0, cores: 1 })).toBe(2);
    expect(concurrencyFor({ freeMemoryBytes: 0, totalMemoryBytes: 0, cores: 3 })).toBe(6);
    expect(concurrencyFor({ freeMemoryBytes: Number.NaN, totalMemoryBytes: 8 * GiB, cores: 16 })).toBe(8);
  });

  it("sizes this machine from its own figures", () => {
    const room = machineRoom();
    expect(room.freeMemoryBytes).toBeGreaterThan(0);
    expect(room.freeMemoryBytes).toBeLessThanOrEqual(room.totalMemoryBytes);
    expect(room.cores).toBeGreaterThanOrEqual(1);
    const n = defaultConcurrency();
    expect(n).toBeGreaterThanOrEqual(1);
    expect(n).toBeLessThanOrEqual(CONCURRENCY_CEILING);
  });
});
