/**
 * The command line's entry: the list of commands and the dispatch to them. Each command lives in
 * its own module under src/cli/ as one registration (name, summary, usage, options, examples),
 * which also writes its `--help`; add a command by adding its module and a line to COMMANDS.
 */
import { VERSION } from "./model/index.js";
import { safeForTerminal } from "./report/terminal.js";
import { EXIT, EXIT_CODES_HELP, exitCodeFor } from "./cli/exit.js";
import { UsageError } from "./cli/args.js";
import { commandHelp, execute, type Command } from "./cli/command.js";
import { runCommand } from "./cli/run.js";
import { initCommand } from "./cli/init.js";
import { doctorCommand } from "./cli/doctor.js";
import { restoreCommand } from "./cli/restore.js";
import { reportCommand } from "./cli/report.js";
import { batchCommand, mergeCommand, regradeCommand } from "./cli/batch.js";
import { checksCommand } from "./cli/checks.js";

/** Exit codes: a contract for CI jobs and batch scripts (see src/cli/exit.ts). */
export { EXIT, exitCodeFor };

/** Every command, in the order `hagrade --help` lists them. */
export const COMMANDS: readonly Command[] = [initCommand, doctorCommand, runCommand, reportCommand, restoreCommand, checksCommand, batchCommand, mergeCommand, regradeCommand];

function overview(): string {
  const rows = COMMANDS.map((c) => [c.name, c.summary] as const);
  rows.push(["help", "this help, or a command's: hagrade help COMMAND"], ["version", "print the version (also --version, -V)"]);
  const width = Math.max(...rows.map(([n]) => n.length)) + 3;
  return [
    `hagrade ${VERSION} — grades the "web service in high availability" lab`,
    "",
    "Usage: hagrade COMMAND [options]",
    "",
    "Commands:",
    ...rows.map(([n, s]) => `  ${n.padEnd(width)}${s}`),
    "",
    "Examples:",
    ...COMMANDS.filter((c) => c.examples.length > 0).map((c) => `  ${c.examples[0]!}`),
    "",
    "Run `hagrade COMMAND --help` for a command's options and examples.",
    "",
    EXIT_CODES_HELP,
    "",
  ].join("\n");
}

function find(name: string): Command {
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) throw new UsageError(`unknown command "${name}" (known: ${COMMANDS.map((c) => c.name).join(", ")}, help, version)`);
  return command;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  try {
    switch (name) {
      case undefined:
        process.stdout.write(overview());
        return EXIT.badInput;
      case "-h":
      case "--help":
        process.stdout.write(overview());
        return EXIT.ok;
      case "help":
        if (rest.length > 1) throw new UsageError("usage: hagrade help [COMMAND]");
        process.stdout.write(rest[0] === undefined ? overview() : commandHelp(find(rest[0])));
        return EXIT.ok;
      case "-V":
      case "-v":
      case "--version":
      case "version":
        process.stdout.write(`${VERSION}\n`);
        return EXIT.ok;
      default:
        return await execute(find(name), rest);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      const hint = name && COMMANDS.some((c) => c.name === name) ? `hagrade ${name} --help` : "hagrade --help";
      process.stderr.write(`hagrade: ${safeForTerminal(error.message)}\nRun \`${hint}\` for usage.\n`);
      return EXIT.badInput;
    }
    // The last line of defence: never a stack trace, but enough to report the bug.
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`hagrade: internal error: ${safeForTerminal(message)}\n`);
    if (process.env.HAGRADE_DEBUG) process.stderr.write(`${(error as Error).stack ?? ""}\n`);
    return EXIT.infrastructure;
  }
}
