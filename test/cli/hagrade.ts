/**
 * The real command line as a child process: its exit code and its output as text. By default the
 * source (`node src/bin.ts` through tsx, the edit-test loop needs no build); with HAGRADE_CLI=dist
 * the built one the package ships (`node dist/src/bin.js`, after `npm run build`), so the same
 * tests prove what a teacher installs.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
export const ROOT = resolve(import.meta.dirname, "../..");

/** Node's arguments that start the CLI, before its own: the built bin.js, or the source through tsx (resolved from the repository, whatever the working folder). */
export const CLI: readonly string[] = (() => {
  if (process.env.HAGRADE_CLI === "dist") {
    const bin = join(ROOT, "dist/src/bin.js");
    if (!existsSync(bin)) throw new Error(`HAGRADE_CLI=dist: ${bin} is missing; run \`npm run build\` first`);
    return [bin];
  }
  return ["--import", join(ROOT, "node_modules/tsx/dist/loader.mjs"), join(ROOT, "src/bin.ts")];
})();

export interface CliOutput {
  code: number;
  stdout: string;
  stderr: string;
}

export async function hagrade(args: string[], cwd = ROOT, env: NodeJS.ProcessEnv = process.env): Promise<CliOutput> {
  try {
    const { stdout, stderr } = await run(process.execPath, [...CLI, ...args], { cwd, env, timeout: 90_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

/** A frame of a JavaScript stack trace, the thing a user must never see. */
export const STACK_LINE = /^\s+at .+\(.*:\d+:\d+\)$/m;
