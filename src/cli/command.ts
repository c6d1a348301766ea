/**
 * A hagrade command is one registration: its name, a one-line summary, its usage lines, its
 * options (each with the help it prints) and an example. The same registration parses the
 * command line and writes `hagrade <cmd> --help`, so the help cannot drift from the flags.
 */
import { UsageError, parseFlags, parseFlagsAndArgs } from "./args.js";

/** One flag: how it parses (node:util parseArgs) and the line `--help` prints for it. */
export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  default?: string | boolean;
  /** The value's placeholder in the help (`FILE`, `N`, `es|en`). */
  arg?: string;
  help: string;
}

export type OptionSpecs = Record<string, OptionSpec>;

/** What a command's `run` receives: the parsed flags, typed by the registration. */
export type Flags<O extends OptionSpecs> = { [K in keyof O]?: O[K]["type"] extends "boolean" ? boolean : string };

export interface Command<O extends OptionSpecs = OptionSpecs> {
  name: string;
  /** One line, for the list of commands in `hagrade --help`. */
  summary: string;
  /** Usage lines, each after `hagrade ` (the first is shown in the list of commands). */
  usage: string[];
  options: O;
  /** True when the command takes words besides its flags (`report FILE`, `merge DIR...`). */
  positionals?: boolean;
  /** Shell lines shown under "Examples". */
  examples: string[];
  /** Paragraphs printed after the options (exit codes, notes). */
  notes?: string[];
  run(flags: Flags<O>, positionals: string[]): Promise<number>;
}

/** Registers a command, keeping its flags' types for its `run`. */
export function defineCommand<const O extends OptionSpecs>(command: Command<O>): Command {
  return command as unknown as Command;
}

/** True when the words ask for help (`-h`/`--help` anywhere before a `--`). */
export function asksForHelp(args: string[]): boolean {
  for (const a of args) {
    if (a === "--") return false;
    if (a === "--help" || a === "-h") return true;
  }
  return false;
}

/** Parses the words with the command's own options; bad input is a UsageError naming the flag. */
export function parseCommandLine(command: Command, args: string[]): { flags: Record<string, string | boolean | undefined>; positionals: string[] } {
  const options = Object.fromEntries(
    Object.entries(command.options).map(([name, o]) => [name, { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.default !== undefined ? { default: o.default } : {}) }]),
  ) as Record<string, { type: "string" | "boolean"; short?: string; default?: string | boolean }>;
  if (command.positionals) {
    const { values, positionals } = parseFlagsAndArgs(args, options);
    return { flags: values as Record<string, string | boolean | undefined>, positionals };
  }
  const { values } = parseFlags(args, options);
  return { flags: values as Record<string, string | boolean | undefined>, positionals: [] };
}

/** `hagrade <cmd> --help`: usage, options, notes and examples. */
export function commandHelp(command: Command): string {
  const lines = [`hagrade ${command.name} — ${command.summary}`, "", "Usage:", ...command.usage.map((u) => `  hagrade ${u}`)];
  const rows = Object.entries(command.options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : ""}--${name}${o.type === "string" ? ` ${o.arg ?? "VALUE"}` : ""}`;
    return [flag, o.help] as const;
  });
  rows.push(["-h, --help", "print this help"]);
  const width = Math.min(30, Math.max(...rows.map(([f]) => f.length)) + 2);
  lines.push("", "Options:");
  for (const [flag, help] of rows) {
    lines.push(flag.length + 2 > width ? `  ${flag}\n  ${" ".repeat(width)}${help}` : `  ${flag.padEnd(width)}${help}`);
  }
  for (const note of command.notes ?? []) lines.push("", note);
  if (command.examples.length) lines.push("", command.examples.length === 1 ? "Example:" : "Examples:", ...command.examples.map((e) => `  ${e}`));
  return lines.join("\n") + "\n";
}

/** Runs a registered command on its words: help, then parsing, then the command. */
export async function execute(command: Command, args: string[]): Promise<number> {
  if (asksForHelp(args)) {
    process.stdout.write(commandHelp(command));
    return 0;
  }
  const { flags, positionals } = parseCommandLine(command, args);
  return command.run(flags as Flags<OptionSpecs>, positionals);
}

export { UsageError };
