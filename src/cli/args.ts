/**
 * What every `hagrade` command does with its command line: parse it strictly, and turn bad input
 * into a UsageError, which the CLI prints as one line naming the flag and the fix (exit 2).
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import type { Lang, PartOption } from "../model/index.js";

/** Bad input on the command line: printed as `hagrade: MESSAGE`, exit code 2, never a stack trace. */
export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Flags only (`run`, `init`, `batch`...): an unknown flag or a stray word is a UsageError. */
export function parseFlags<const T extends Options>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: false, strict: true as const });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Flags and positional arguments (`report FILE`, `merge DIR...`, `regrade FILE`). */
export function parseFlagsAndArgs<const T extends Options>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true as const });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export function pickLang(value: unknown, fallback: Lang): Lang {
  if (value === undefined) return fallback;
  if (value === "es" || value === "en") return value;
  throw new UsageError(`--lang must be es or en (got "${String(value)}")`);
}

export function pickPart(value: unknown): PartOption | undefined {
  if (value === undefined) return undefined;
  if (value === "auto" || value === "lvs" || value === "proxy") return value;
  throw new UsageError(`--part must be auto, lvs or proxy (got "${String(value)}")`);
}
