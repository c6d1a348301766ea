/**
 * Namespaces a lab bring-up left when it was interrupted (Ctrl-C reaches lab.sh too): its state
 * folder and balancer namespace are gone, so `lab.sh down --index` no longer knows the lab, but
 * some host namespaces remain. Only indexes that appeared during this bench's own bring-up and
 * that no live lab claims are touched: other people's labs on the machine are left alone.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

const LAB_ROOT = process.env.HAGRADE_LAB_ROOT ?? "/tmp/hagrade-lab";

function namespaces(): string[] {
  try {
    return execFileSync("ip", ["netns", "list"], { encoding: "utf8" })
      .split("\n")
      .map((l) => l.split(" ")[0] ?? "")
      .filter(Boolean);
  } catch {
    return [];
  }
}

/** Indexes of every netns lab present now (a namespace or a state folder). */
export function netnsLabIndexes(): Set<number> {
  const out = new Set<number>();
  for (const n of namespaces()) {
    const m = /^hg(\d+)-/.exec(n);
    if (m) out.add(Number(m[1]));
  }
  return out;
}

/** Removes namespaces of indexes absent from `before` whose lab is no longer claimed; returns their names. */
export function sweepOrphans(before: ReadonlySet<number>): string[] {
  const all = namespaces();
  const orphans = all.filter((n) => {
    const m = /^hg(\d+)-/.exec(n);
    if (!m) return false;
    const index = Number(m[1]);
    // A live lab (or one being built) holds its balancer namespace and its state folder.
    return !before.has(index) && !all.includes(`hg${index}-bal`) && !existsSync(join(LAB_ROOT, `hg${index}`));
  });
  for (const ns of orphans) {
    let pids: string[] = [];
    try {
      pids = execFileSync("ip", ["netns", "pids", ns], { encoding: "utf8" }).split("\n").filter(Boolean);
    } catch {
      // Already gone.
    }
    for (const pid of pids) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        // Already gone.
      }
    }
  }
  for (const ns of orphans) {
    try {
      execFileSync("ip", ["netns", "del", ns], { stdio: "ignore" });
    } catch {
      // Already gone.
    }
  }
  return orphans;
}
