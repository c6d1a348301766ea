/**
 * A POSIX sh tokenizer for tests that read back the commands hagrade sent: it splits a command
 * line into words the way sh does (single quotes, double quotes, backslashes, operators,
 * comments), and keeps, for every character of every word, whether the shell saw it quoted.
 * That is what decides whether something a student's machine answered could have become shell
 * syntax: only characters outside quotes (and `$`, backquote and backslash inside double quotes)
 * are interpreted. Expansions (`$(...)`, backquotes, `${...}`) are kept as text of the word they
 * are in, marked unquoted unless single-quoted.
 */

export interface ShellWord {
  /** The word after quote removal (expansions left as written). */
  text: string;
  /** Per character of `text`: true when the shell reads it literally (inside quotes or escaped). */
  quoted: boolean[];
}

export type ShellToken = { word: ShellWord } | { op: string };

const OPERATORS = ["&&", "||", ";;", "<<-", "<<", ">>", "<&", ">&", "<>", ">|", "|", "&", ";", "<", ">", "(", ")", "\n"];

/** Splits `line` into words and operators; throws on an unterminated quote. */
export function shellTokens(line: string): ShellToken[] {
  const tokens: ShellToken[] = [];
  let text = "";
  let quoted: boolean[] = [];
  let inWord = false;
  const push = (c: string, q: boolean) => {
    text += c;
    quoted.push(q);
    inWord = true;
  };
  const end = () => {
    if (inWord) tokens.push({ word: { text, quoted } });
    text = "";
    quoted = [];
    inWord = false;
  };
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === "'") {
      const close = line.indexOf("'", i + 1);
      if (close < 0) throw new Error(`unterminated single quote at ${i}`);
      inWord = true;
      for (const ch of line.slice(i + 1, close)) push(ch, true);
      i = close + 1;
      continue;
    }
    if (c === '"') {
      inWord = true;
      i += 1;
      for (;;) {
        if (i >= line.length) throw new Error("unterminated double quote");
        const d = line[i]!;
        if (d === '"') {
          i += 1;
          break;
        }
        if (d === "\\" && i + 1 < line.length && '$`"\\\n'.includes(line[i + 1]!)) {
          if (line[i + 1] !== "\n") push(line[i + 1]!, true);
          i += 2;
          continue;
        }
        // `$` and backquotes stay active inside double quotes.
        push(d, d !== "$" && d !== "`");
        i += 1;
      }
      continue;
    }
    if (c === "\\") {
      if (i + 1 < line.length && line[i + 1] !== "\n") push(line[i + 1]!, true);
      i += 2;
      continue;
    }
    if (c === " " || c === "\t") {
      end();
      i += 1;
      continue;
    }
    if (c === "#" && !inWord) {
      const nl = line.indexOf("\n", i);
      i = nl < 0 ? line.length : nl;
      continue;
    }
    const op = OPERATORS.find((o) => line.startsWith(o, i));
    if (op) {
      end();
      tokens.push({ op });
      i += op.length;
      continue;
    }
    push(c, false);
    i += 1;
  }
  end();
  return tokens;
}

/** The words of a simple command line (operators dropped). */
export function shellWords(line: string): string[] {
  return shellTokens(line).flatMap((t) => ("word" in t ? [t.word.text] : []));
}

/**
 * The command a grader sent, without hagrade's remote wrapper (src/ssh/remote.ts):
 * `[sudo -n --] sh -c WRAPPER hagrade COMMAND SECONDS STDIN` → COMMAND. Other text is returned as is.
 */
export function unwrapRemote(wire: string): string {
  const words = shellWords(wire);
  const at = words[0] === "sudo" ? words.indexOf("--") + 1 : 0;
  const command = words[at + 4];
  if (words[at] === "sh" && words[at + 1] === "-c" && words[at + 3] === "hagrade" && command !== undefined) return command;
  return wire;
}
