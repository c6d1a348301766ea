/**
 * Quoting for POSIX sh. Remote commands are built as text, and some pieces come from a lab spec or
 * from a student's machine (paths, names): those must reach the shell as single words.
 */

/** A fragment that `sh` inserts as it is (already shell text, trusted). */
export class ShellFragment {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** Marks trusted shell text (an operator, a redirection) for use inside `sh\`...\``. */
export function shRaw(text: string): ShellFragment {
  return new ShellFragment(text);
}

/**
 * One word for POSIX sh whatever the value holds: single quotes, with each `'` written as `'\''`.
 * NUL cannot travel in a command line, so it is refused rather than silently cut.
 */
export function shQuote(value: string | number): string {
  const text = String(value);
  if (text.includes("\0")) throw new TypeError("a shell argument cannot contain a NUL byte");
  if (text !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(text)) return text;
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

type ShellValue = string | number | ShellFragment | readonly (string | number | ShellFragment)[];

function render(value: ShellValue): string {
  if (value instanceof ShellFragment) return value.text;
  if (Array.isArray(value)) return value.map((v: string | number | ShellFragment) => render(v)).join(" ");
  return shQuote(value as string | number);
}

/**
 * Tagged template: the literal parts are shell text, every `${value}` becomes one quoted word
 * (an array becomes several words, `shRaw(...)` is inserted as it is).
 *
 *     sh`cat ${path} | sha256sum`
 */
export function sh(strings: TemplateStringsArray, ...values: ShellValue[]): string {
  let out = strings[0] ?? "";
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? "");
  });
  return out;
}
