/**
 * Process lists: is keepalived (or Apache) running on a host?
 */

import { splitLines, type UnparsedLine } from "./common.js";

// =======================================================================================
// Process lists: `ps -eo pid,comm,args`, `pgrep -a NAME`, `pgrep -l NAME`, `pidof NAME`

export interface ProcessEntry {
  pid: number;
  /** Executable name as the kernel knows it (ps comm, pgrep -l), when the format gives it. */
  comm?: string;
  /** Full command line, when the format gives it. */
  args?: string;
  line: number;
}

export interface ProcessList {
  format: "ps" | "pgrep" | "pidof" | "empty";
  processes: ProcessEntry[];
  unparsed: UnparsedLine[];
}

export function parseProcessList(text: string): ProcessList {
  const lines = splitLines(typeof text === "string" ? text : "");
  const nonEmpty = lines.filter((line) => line.trim() !== "");
  if (nonEmpty.length === 0) return { format: "empty", processes: [], unparsed: [] };
  if (nonEmpty.length === 1 && /^\s*\d+(\s+\d+)*\s*$/.test(nonEmpty[0] as string)) {
    const processes = (nonEmpty[0] as string).trim().split(/\s+/).map((pid) => ({ pid: Number(pid), line: lines.indexOf(nonEmpty[0] as string) + 1 }));
    return { format: "pidof", processes, unparsed: [] };
  }
  const headerIndex = lines.findIndex((line) => /^\s*PID\s+\S/.test(line));
  const processes: ProcessEntry[] = [];
  const unparsed: UnparsedLine[] = [];
  if (headerIndex >= 0) {
    const header = lines[headerIndex] as string;
    const columns = [...header.matchAll(/\S+/g)].map((match) => ({ name: match[0], start: match.index ?? 0 }));
    const commIndex = columns.findIndex((column) => column.name === "COMMAND" || column.name === "COMM" || column.name === "CMD");
    // With both comm and args the header reads "PID COMMAND COMMAND": args start where the second header starts.
    const argsColumn = columns.findIndex((column, index) => index > commIndex && /^(COMMAND|CMD|ARGS)$/.test(column.name));
    lines.forEach((raw, index) => {
      if (index <= headerIndex || raw.trim() === "") return;
      const pidMatch = /^\s*(\d+)\s+(.*)$/.exec(raw);
      if (!pidMatch) {
        unparsed.push({ line: index + 1, text: raw });
        return;
      }
      const entry: ProcessEntry = { pid: Number(pidMatch[1]), line: index + 1 };
      const rest = pidMatch[2] as string;
      if (commIndex >= 0 && argsColumn >= 0) {
        const argsStart = (columns[argsColumn] as { start: number }).start;
        const before = raw.slice(0, argsStart);
        const commText = before.replace(/^\s*\d+\s*/, "").trim();
        if (raw.length > argsStart && /\s/.test(raw[argsStart - 1] ?? " ") && commText !== "") {
          entry.comm = commText;
          entry.args = raw.slice(argsStart).trim();
        } else {
          const [comm, ...args] = rest.trim().split(/\s+/);
          if (comm !== undefined) entry.comm = comm;
          entry.args = args.join(" ");
        }
      } else if (commIndex >= 0) entry.comm = rest.trim();
      else entry.args = rest.trim();
      processes.push(entry);
    });
    return { format: "ps", processes, unparsed };
  }
  lines.forEach((raw, index) => {
    if (raw.trim() === "") return;
    const match = /^\s*(\d+)\s+(.+)$/.exec(raw);
    if (!match) {
      unparsed.push({ line: index + 1, text: raw });
      return;
    }
    const rest = (match[2] as string).trim();
    const entry: ProcessEntry = { pid: Number(match[1]), line: index + 1, args: rest };
    if (!/\s/.test(rest)) entry.comm = rest.replace(/^.*\//, "");
    processes.push(entry);
  });
  return { format: "pgrep", processes, unparsed };
}

/** Processes whose executable is `name` ("keepalived"), not a grep or shell that mentions it. */
export function findProcesses(list: ProcessList | readonly ProcessEntry[], name: string): ProcessEntry[] {
  const processes = Array.isArray(list) ? (list as readonly ProcessEntry[]) : (list as ProcessList).processes;
  return processes.filter((process) => {
    const argv0 = process.args?.trim().split(/\s+/)[0]?.replace(/^.*\//, "").replace(/:$/, "");
    // The kernel truncates comm to 15 characters.
    const commMatches = process.comm !== undefined && (process.comm === name || (process.comm.length === 15 && name.startsWith(process.comm)));
    if (process.args === undefined || process.args === "") return commMatches;
    return argv0 === name || (commMatches && argv0 !== undefined && !["grep", "pgrep", "ps", "sh", "bash", "sudo"].includes(argv0));
  });
}
