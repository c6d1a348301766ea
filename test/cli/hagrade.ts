/**
 * The real command line as a child process (`node src/bin.ts` through tsx, as the package's bin
 * runs it once built): its exit code and its output as text.
 */
import { execFile } from "node:child_process";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
export const ROOT = resolve(import.meta.dirname, "../..");

export interface CliOutput {
  code: number;
  stdout: string;
  stderr: string;
}

export async function hagrade(args: string[], cwd = ROOT, env: NodeJS.ProcessEnv = process.env): Promise<CliOutput> {
  try {
    // tsx is resolved from the repository, whatever the working folder.
    const tsx = join(ROOT, "node_modules/tsx/dist/loader.mjs");
    const { stdout, stderr } = await run(process.execPath, ["--import", tsx, join(ROOT, "src/bin.ts"), ...args], { cwd, env, timeout: 90_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

/** A frame of a JavaScript stack trace, the thing a user must never see. */
export const STACK_LINE = /^\s+at .+\(.*:\d+:\d+\)$/m;
