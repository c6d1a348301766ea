/**
 * Memory the bench's own netns labs hold (their Apache and sshd processes, and what the grade's
 * SSH commands start in them): the proportional set size (Pss, shared pages split between the
 * processes that share them, so 30 Apaches are not counted 30 times over) of every process whose
 * network namespace is one of the labs'. Found through /proc alone (no `ip netns pids` per
 * namespace), so sampling it while a class is graded costs little.
 */
import { readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";

/** The network namespaces' inodes of labs hg<index>-*. */
function namespaceInodes(indexes: readonly number[]): Set<string> {
  const prefixes = indexes.map((i) => `hg${i}-`);
  const out = new Set<string>();
  let names: string[] = [];
  try {
    names = readdirSync("/run/netns");
  } catch {
    return out;
  }
  for (const name of names) {
    if (!prefixes.some((p) => name.startsWith(p))) continue;
    try {
      out.add(`net:[${statSync(`/run/netns/${name}`).ino}]`);
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

function pssKiB(pid: string): number {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
    const m = /^Pss:\s+(\d+) kB/m.exec(rollup);
    if (m) return Number(m[1]);
  } catch {
    // No smaps_rollup (old kernel) or the process ended: its VmRSS, or nothing.
  }
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export interface LabMemory {
  processes: number;
  pssKiB: number;
}

/** The labs' processes and their memory now. */
export function labMemory(indexes: readonly number[]): LabMemory {
  const inodes = namespaceInodes(indexes);
  let processes = 0;
  let total = 0;
  if (inodes.size === 0) return { processes, pssKiB: total };
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    let ns: string;
    try {
      ns = readlinkSync(`/proc/${pid}/ns/net`);
    } catch {
      continue;
    }
    if (!inodes.has(ns)) continue;
    processes++;
    total += pssKiB(pid);
  }
  return { processes, pssKiB: total };
}

/** Samples labMemory every `everyMs` until stopped; returns the highest total seen. */
export function sampleLabMemory(indexes: readonly number[], everyMs = 2_000): { stop(): LabMemory } {
  let peak: LabMemory = labMemory(indexes);
  const timer = setInterval(() => {
    const now = labMemory(indexes);
    if (now.pssKiB > peak.pssKiB) peak = now;
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      const now = labMemory(indexes);
      if (now.pssKiB > peak.pssKiB) peak = now;
      return peak;
    },
  };
}
