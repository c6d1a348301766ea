/**
 * The process list of a lab machine, read so that the absence of a process can be trusted: the
 * listing must be whole (src/runner/complete.ts), `ps` must have succeeded, and the listing must
 * show `ps` itself (a list that lacks the very command that printed it is not a process list).
 */
import { findProcesses, parseProcessList, type ProcessEntry } from "../src/inspect/index.js";
import type { CheckContext } from "../src/runner/context.js";
import { endMarked, readEndMarked } from "../src/runner/complete.js";
import { ev, remote, text } from "../src/runner/check.js";
import type { ProcessesEvidence, Text } from "../src/model/index.js";

const PS = "ps -eo pid,comm,args";

export type ProcessReading =
  | { ok: true; processes: ProcessEntry[] }
  | { ok: false; why: Text };

/** `ps -eo pid,comm,args` on `host`, whole and with itself in it, or why it cannot be trusted. */
export async function readProcesses(ctx: CheckContext, host: string): Promise<ProcessReading> {
  const r = await remote(ctx).exec(host, endMarked(PS));
  const marked = readEndMarked(r.stdout);
  const said = (r.stderr.trim().split("\n").pop() ?? "").slice(0, 200);
  if (!marked.complete) {
    return { ok: false, why: text(`la salida de ${PS} llegó incompleta`, `the output of ${PS} came incomplete`) };
  }
  if (marked.status !== 0) {
    return {
      ok: false,
      why: text(`${PS} terminó con el estado ${marked.status}${said ? ` (${said})` : ""}`, `${PS} exited with status ${marked.status}${said ? ` (${said})` : ""}`),
    };
  }
  const list = parseProcessList(marked.output);
  if (list.format !== "ps" || findProcesses(list, "ps").length === 0) {
    return {
      ok: false,
      why: text(`${PS} no imprimió una lista de procesos (ni siquiera aparece ps)`, `${PS} did not print a process list (ps itself is not in it)`),
    };
  }
  return { ok: true, processes: list.processes };
}

/** The evidence of a reading: the processes named `name` in a whole list (and its length), or why there is no list. */
export function processesEvidence(listing: ProcessReading, name: string): ProcessesEvidence {
  if (!listing.ok) return ev.processes({ name, found: [], listed: null, unreadable: listing.why });
  const found = findProcesses(listing.processes, name).map((p) => ({ pid: p.pid, args: (p.args ?? p.comm ?? "").slice(0, 200) }));
  return ev.processes({ name, found, listed: listing.processes.length });
}
