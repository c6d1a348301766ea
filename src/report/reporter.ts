import type { CheckInfo, CheckResult, Lang, Part, RunResult, Text } from "../model/index.js";

export interface RunInfo {
  lab: string;
  part: Part;
  lang: Lang;
  checks: { id: string; title: { es: string; en: string } }[];
  startedAt: string;
}

/**
 * A reporter is an object of optional event hooks (Playwright's model). Reporters never probe;
 * they only render what the runner tells them.
 */
export interface Reporter {
  onBegin?(info: RunInfo): void;
  onCheckBegin?(check: CheckInfo): void;
  /** What a long check is doing now (sampling n of N, waiting for the failover), in both languages. */
  onCheckProgress?(checkId: string, progress: Text): void;
  onCheckEnd?(result: CheckResult): void;
  /** Final result (fired by the engine, or by whoever re-renders a saved one); file reporters write here and return the paths they wrote. */
  onEnd?(result: RunResult): Promise<string[] | void> | string[] | void;
}

/** Fans events out to several reporters; at the end, the paths they all wrote. */
export function multiplex(reporters: Reporter[]): Required<Omit<Reporter, "onEnd">> & { onEnd(result: RunResult): Promise<string[]> } {
  return {
    onBegin: (info) => reporters.forEach((r) => r.onBegin?.(info)),
    onCheckBegin: (c) => reporters.forEach((r) => r.onCheckBegin?.(c)),
    onCheckProgress: (id, t) => reporters.forEach((r) => r.onCheckProgress?.(id, t)),
    onCheckEnd: (res) => reporters.forEach((r) => r.onCheckEnd?.(res)),
    onEnd: async (result) => {
      const written: string[] = [];
      for (const r of reporters) {
        const paths = await r.onEnd?.(result);
        if (paths) written.push(...paths);
      }
      return written;
    },
  };
}
