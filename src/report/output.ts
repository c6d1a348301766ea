/** Where a report goes: a file (its folder made), or standard output when the path is `-`. */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

/** The path that means standard output (`--json -`, `--tap -`, `--markdown -`). */
export const STDOUT = "-";

/** Writes a report; returns the file written, or nothing for standard output. */
export async function writeReport(path: string, text: string): Promise<string[]> {
  if (path === STDOUT) {
    await new Promise<void>((resolve, reject) => process.stdout.write(text, (error) => (error ? reject(error) : resolve())));
    return [];
  }
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text, "utf8");
  return [path];
}
