import type { CheckDefinition, CheckResult, Lang, Part, RunResult } from "../runner/types.js";

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
  onCheckBegin?(check: CheckDefinition<never>): void;
  onCheckProgress?(checkId: string, text: string): void;
  onCheckEnd?(result: CheckResult): void;
  /** Final result; file reporters write here and return the paths they wrote. */
  onEnd?(result: RunResult): Promise<string[] | void> | string[] | void;
}

/** Fans events out to several reporters. */
export function multiplex(reporters: Reporter[]): Required<Reporter> {
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
