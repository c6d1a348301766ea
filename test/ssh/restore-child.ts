/**
 * A grader process for the journal tests: it changes a page on a web server inside withRestore and
 * then waits, so the test can kill it (SIGKILL, SIGTERM) in the middle of the disruptive step.
 * Configuration comes as JSON in HAGRADE_RESTORE_CHILD.
 */
import { writeFileSync } from "node:fs";
import { RestoreJournal, SshPool, withRestore, type RestoreStep, type SshTarget } from "../../src/ssh/index.js";

interface ChildConfig {
  targets: SshTarget[];
  journalDir: string;
  step: RestoreStep;
  /** Where to write the exit code the process ends with. */
  exitFile: string;
}

const config = JSON.parse(process.env.HAGRADE_RESTORE_CHILD ?? "{}") as ChildConfig;
process.on("exit", (code) => writeFileSync(config.exitFile, String(code)));

const pool = new SshPool(config.targets, { acceptNewHostKeys: false, connectTimeoutMs: 5000, execTimeoutMs: 10_000, sudo: "auto" });
const journal = RestoreJournal.create({ dir: config.journalDir, lab: "alumno-01", specPath: "/labs/alumno-01.yaml" });

const outcome = await withRestore({ journal, pool }, config.step, async (signal) => {
  process.stdout.write(`APPLIED ${process.pid} ${journal.file}\n`);
  // The interval keeps the process alive whatever the connection does, until killed.
  const alive = setInterval(() => undefined, 1000);
  await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
  clearInterval(alive);
});
const kind = outcome.error && typeof outcome.error === "object" && "kind" in outcome.error ? String(outcome.error.kind) : "";
process.stdout.write(`FINISHED ${JSON.stringify(outcome.restore.status)} ${kind}\n`);
await pool.closeAll();
