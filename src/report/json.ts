import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { RunResult } from "../model/index.js";
import type { Reporter } from "./reporter.js";

/** The full result with evidence, versioned so it can be re-rendered or re-graded later. */
export function jsonReporter(path: string, redact: (text: string) => string = (t) => t): Reporter {
  return {
    async onEnd(result: RunResult) {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, redact(JSON.stringify(result, null, 2)) + "\n", "utf8");
      return [path];
    },
  };
}
