import { cpus, loadavg, release, totalmem } from "node:os";

/** The machine the figures were measured on: they mean little without it. */
export interface Machine {
  cpuModel: string;
  cores: number;
  memoryBytes: number;
  node: string;
  kernel: string;
  /** 1, 5 and 15 minute load averages when the bench began: other work on the machine skews every figure. */
  loadAverage: number[];
}

export function describeMachine(): Machine {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? "unknown",
    cores: list.length,
    memoryBytes: totalmem(),
    node: process.version,
    kernel: release(),
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

export function machineLine(m: Machine): string {
  const load = m.loadAverage.length ? `, load average ${m.loadAverage.join(" ")}` : "";
  return `${m.cpuModel}, ${m.cores} cores, ${(m.memoryBytes / 2 ** 30).toFixed(1)} GiB, Node ${m.node}, Linux ${m.kernel}${load}`;
}
