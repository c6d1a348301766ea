/**
 * Text that came from a student's machine (pages, headers, command output) may carry terminal
 * escape sequences: they are made visible, never written raw.
 */
export function safeForTerminal(text: string): string {
  // C0 controls except tab/newline, DEL, and C1 controls (0x80–0x9f, e.g. the 8-bit CSI).
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

export interface Style {
  color: boolean;
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  magenta(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

/** Colours only on a TTY and when NO_COLOR is unset (https://no-color.org); FORCE_COLOR forces them. */
export function makeStyle(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): Style {
  const color = env.FORCE_COLOR ? env.FORCE_COLOR !== "0" : Boolean(stream.isTTY) && !("NO_COLOR" in env) && env.TERM !== "dumb";
  const wrap = (open: number, close: number) => (s: string) => (color ? `\u001b[${open}m${s}\u001b[${close}m` : s);
  return {
    color,
    green: wrap(32, 39),
    red: wrap(31, 39),
    yellow: wrap(33, 39),
    magenta: wrap(35, 39),
    dim: wrap(2, 22),
    bold: wrap(1, 22),
  };
}
