/**
 * Runs `hagrade run` as a student would, at one of the places a reference lab offers (the
 * client network, inside the balancer, a host-only host, behind a port forwarder: see
 * fixtures/netns/lab.sh), and reads back its JSON result.
 */
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import type { GraderPlace, Lab } from "../../fixtures/netns/index.js";
import type { CheckResult, RunResult } from "../../src/model/index.js";

const ROOT = resolve(import.meta.dirname, "../..");
const TSX = join(ROOT, "node_modules/tsx/dist/loader.mjs");

export interface PlaceGrade {
  code: number;
  stdout: string;
  stderr: string;
  result: RunResult;
  check(id: string): CheckResult;
}

export async function gradeAt(lab: Lab, place: GraderPlace, options: { only?: string[]; env?: NodeJS.ProcessEnv; spec?: string } = {}): Promise<PlaceGrade> {
  const run = lab.place(place);
  rmSync(run.workDir.outside, { recursive: true, force: true });
  mkdirSync(run.workDir.outside, { recursive: true });
  const argv = [
    ...run.prefix,
    process.execPath, "--import", TSX, join(ROOT, "src/bin.ts"),
    "run", "--spec", options.spec ?? run.specPath, "--lang", "en", "--reporter", "json",
    "--json", `${run.workDir.inside}/result.json`, "--out", run.workDir.inside, "--journal-dir", `${run.workDir.inside}/journal`,
    ...(options.only ? ["--only", options.only.join(",")] : []),
  ];
  const [command, ...args] = argv as [string, ...string[]];
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
    execFile(command, args, { cwd: ROOT, env: { ...process.env, ...options.env }, timeout: 240_000, maxBuffer: 16 << 20 }, (error, out, err) => {
      done({ code: error ? (typeof error.code === "number" ? error.code : -1) : 0, stdout: out, stderr: err });
    });
  });
  let result: RunResult;
  try {
    result = JSON.parse(readFileSync(join(run.workDir.outside, "result.json"), "utf8")) as RunResult;
  } catch {
    throw new Error(`hagrade at ${place} wrote no result (exit ${code}):\n${stderr.slice(-3000)}\n${stdout.slice(-2000)}`);
  }
  return {
    code,
    stdout,
    stderr,
    result,
    check(id) {
      const found = result.checks.find((c) => c.id === id);
      if (!found) throw new Error(`no result for ${id} at ${place}; checks: ${result.checks.map((c) => c.id).join(", ")}`);
      return found;
    },
  };
}

/** "id outcome: message" per check, for a failing assertion to show. */
export function summary(grade: PlaceGrade): string {
  return grade.result.checks.map((c) => `${c.id} ${c.outcome}: ${c.message.en}`).join("\n");
}
