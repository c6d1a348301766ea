/**
 * How many labs `hagrade batch` grades at once by default. Grading is I/O-bound: one event loop
 * that mostly waits on students' labs (the sampling's rate bound, SSH round trips, the failover's
 * waits), so the machine's cores do not bound it: `npm run bench` graded 30 labs with
 * --disruptive in one process using ~15 s of CPU over ~70 s (docs/bench.md, "The class figure").
 * What does bound it is the memory each lab's grading holds (its SSH connection, samples,
 * evidence, reports being written) and the traffic the grader sends in all.
 */
import { availableParallelism, freemem, totalmem } from "node:os";

const MiB = 2 ** 20;

/**
 * Memory one lab's grading holds at its peak, with room to spare. The bench measures the grading
 * process: ~137 MiB after loading, a peak of 171 MiB grading one lab with --disruptive and 219 MiB
 * grading 30 (under 2 MiB a lab more, docs/bench.md); 32 MiB a lab leaves room for labs that
 * answer with larger pages or a --long grade's longer samples.
 */
export const LAB_GRADING_BYTES = 32 * MiB;

/** Share of the memory available now that a batch may take: the rest is the machine's other work. */
export const MEMORY_SHARE = 0.5;

/**
 * Labs graded at once however much memory there is. Each lab's sampling keeps to its own rate
 * bound (spec `sampling.ratePerSecond`, 200 requests/s by default, each a new TCP connection), so
 * the grader sends at most 32 × 200 = 6 400 requests/s in all, in short bursts: a grade sends
 * ~120 requests in 1–2.5 s (~1 300 with --disruptive), so a class averages far less. Sustained,
 * 6 400 new connections/s would fill a NAT gateway's or the grader's connection-tracking table
 * (262 144 entries by default on Linux, each held ~2 min after the connection closes) within
 * 40 s: the ceiling keeps a class's bursts well inside it. 32 also grades a class of 30 in one
 * round, about the time of one lab (the bench's class figure).
 */
export const CONCURRENCY_CEILING = 32;

export interface MachineRoom {
  /** Memory available to this process now (os.freemem(), under a container's limit if any), bytes. */
  freeMemoryBytes: number;
  /** The machine's (or the container's) memory, bytes. */
  totalMemoryBytes: number;
  cores: number;
}

/**
 * Labs graded at once: as many as half the available memory holds at LAB_GRADING_BYTES each, at
 * most `ceiling`, at least 1. When the machine reports no memory figure (a total of 0), the
 * per-core rule hagrade used before: two per core, 2 to 8.
 */
export function concurrencyFor(room: MachineRoom, ceiling: number = CONCURRENCY_CEILING): number {
  const top = Math.max(1, Math.floor(ceiling));
  if (!(room.totalMemoryBytes > 0) || !Number.isFinite(room.freeMemoryBytes)) {
    return Math.min(top, Math.max(2, Math.min(8, Math.floor(room.cores) * 2)));
  }
  const free = Math.min(Math.max(0, room.freeMemoryBytes), room.totalMemoryBytes);
  const byMemory = Math.floor((free * MEMORY_SHARE) / LAB_GRADING_BYTES);
  return Math.max(1, Math.min(top, byMemory));
}

/**
 * This process's room now. os.freemem() is the kernel's MemAvailable (page cache counts as free)
 * of the whole machine; inside a container with a memory limit (process.constrainedMemory(), a
 * huge number when there is none), what is left under the limit is the bound.
 */
export function machineRoom(): MachineRoom {
  let free = freemem();
  let total = totalmem();
  const limit = typeof process.constrainedMemory === "function" ? process.constrainedMemory() : undefined;
  if (limit !== undefined && limit > 0 && limit < total) {
    total = limit;
    free = Math.min(free, Math.max(0, limit - process.memoryUsage().rss));
  }
  return { freeMemoryBytes: free, totalMemoryBytes: total, cores: availableParallelism() };
}

/** Labs graded at once on this machine now (`hagrade batch --concurrency` overrides it). */
export function defaultConcurrency(): number {
  return concurrencyFor(machineRoom());
}
