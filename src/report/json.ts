import type { RunResult } from "../model/index.js";
import type { Since } from "./overview.js";
import { writeReport } from "./output.js";
import type { Reporter } from "./reporter.js";

/**
 * The full result with evidence, versioned so it can be re-rendered or re-graded later; to a file
 * or, with the path `-`, to standard output. With `since`, the comparison with an earlier result
 * rides along as a `since` field, which readers of the result ignore.
 */
export function jsonReporter(path: string, redact: (text: string) => string = (t) => t, since?: Since): Reporter {
  return {
    onEnd: (result: RunResult) => writeReport(path, redact(JSON.stringify(since ? { ...result, since } : result, null, 2)) + "\n"),
  };
}
