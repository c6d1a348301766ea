// Preloaded into the grader under test: on exit it writes the process's peak resident memory (KiB).
import { writeFileSync } from "node:fs";
import process from "node:process";

process.once("exit", () => {
  const file = process.env.HAGRADE_RSS_FILE;
  if (file) writeFileSync(file, String(process.resourceUsage().maxRSS));
});
