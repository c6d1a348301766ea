/**
 * Output a check may read as whole. A check that passes on what is ABSENT from an output (no
 * keepalived in the process list, a real server gone from the IPVS table) must know the output is
 * all there: a command killed half-way, cut short, or not run at all prints nothing of what it
 * would have listed. The command is followed by an end line carrying its exit status, printed by
 * the same shell; output without that line as its very last is not whole.
 */

const END = "@@hagrade-end";
const END_LINE = /\n@@hagrade-end (\d{1,3})\n?$/;

/** `command`, then the end line with its exit status (POSIX sh). */
export function endMarked(command: string): string {
  return `{ ${command}\n}; printf '\\n${END} %s\\n' "$?"`;
}

export interface MarkedOutput {
  /** The end line came, last: everything the command printed is here. */
  complete: boolean;
  /** The command's exit status, from the end line (undefined when it did not come). */
  status?: number;
  /** What the command printed, without the end line. */
  output: string;
}

/** Splits stdout of an `endMarked` command into the command's output and its status. */
export function readEndMarked(stdout: string): MarkedOutput {
  const match = END_LINE.exec(stdout);
  if (!match) return { complete: false, output: stdout };
  return { complete: true, status: Number(match[1]), output: stdout.slice(0, match.index) };
}

/**
 * Thrown by a reader whose output cannot be trusted (incomplete, a failed command, not the format
 * it should be): the runner turns it into an `inconclusive` verdict with this text, never a pass.
 */
export class UnreadableOutput extends Error {
  readonly outcome = "inconclusive";
  constructor(
    readonly text: { es: string; en: string },
    readonly fix: { es: string; en: string },
  ) {
    super(text.en);
  }
}

export function isUnreadableOutput(error: unknown): error is UnreadableOutput {
  return error instanceof UnreadableOutput;
}
