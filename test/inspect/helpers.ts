import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const fixturesDir = fileURLToPath(new URL("./fixtures/", import.meta.url));

export function fixture(path: string): string {
  return readFileSync(`${fixturesDir}${path}`, "utf8");
}

/** stdout and stderr of a capture joined, as a pty (ssh -t) would deliver them. */
export function captured(name: string): { stdout: string; stderr: string } {
  return { stdout: fixture(`captured/${name}.stdout`), stderr: fixture(`captured/${name}.stderr`) };
}

export function hasCommand(command: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${command}`], { encoding: "utf8" }).status === 0;
}

export function isRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

/** Runs a program and returns its output whatever its exit status. */
export function run(command: string, args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(command, args, { encoding: "utf8", input, timeout: 30_000 });
  return { status: result.status, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
}

export function runOk(command: string, args: string[], input?: string): string {
  return execFileSync(command, args, { encoding: "utf8", input, timeout: 30_000 });
}
