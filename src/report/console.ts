import type { CheckResult, Lang, Outcome, RunResult, Text } from "../model/index.js";
import type { Reporter, RunInfo } from "./reporter.js";
import { makeStyle, safeForTerminal, type Style } from "./terminal.js";

interface Out {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** A symbol on a terminal; a word in CI logs, where a grep for the outcome must find it. */
const SYMBOL: Record<Outcome, string> = { pass: "✔", fail: "✘", inconclusive: "?", error: "!", skipped: "-" };

const WORDS = {
  es: {
    grading: "Evaluando", part: "parte", score: "Puntuación", requests: "peticiones HTTP enviadas",
    fix: "Cómo arreglarlo", counts: { pass: "superadas", fail: "fallidas", inconclusive: "no concluyentes", error: "errores", skipped: "omitidas" },
    plain: { pass: "SUPERADA", fail: "FALLIDA", inconclusive: "NO CONCLUYENTE", error: "ERROR", skipped: "OMITIDA" },
    partName: { lvs: "1 (keepalived + LVS)", proxy: "2 (proxy inverso Apache)" },
  },
  en: {
    grading: "Grading", part: "part", score: "Score", requests: "HTTP requests sent",
    fix: "How to fix it", counts: { pass: "passed", fail: "failed", inconclusive: "inconclusive", error: "errors", skipped: "skipped" },
    plain: { pass: "PASS", fail: "FAIL", inconclusive: "INCONCLUSIVE", error: "ERROR", skipped: "SKIP" },
    partName: { lvs: "1 (keepalived + LVS)", proxy: "2 (Apache reverse proxy)" },
  },
} as const;

/** Erase the whole line and go back to its start: the progress line is rewritten in place. */
const REWRITE = "\r\u001b[2K";

/**
 * A line per check as it ends. On a TTY a live progress line shows the check running
 * (sampling n of N, waiting for the failover, waiting for a server to rejoin), rewritten in place;
 * in CI logs (not a TTY) only plain lines are written, with no escape sequence at all.
 */
export function consoleReporter(lang: Lang, out: Out = process.stdout, env: NodeJS.ProcessEnv = process.env): Reporter {
  const style: Style = makeStyle(out, env);
  const tty = Boolean(out.isTTY) && env.TERM !== "dumb";
  const w = WORDS[lang];
  let progressShown = false;
  const clearProgress = () => {
    if (progressShown) {
      out.write(REWRITE);
      progressShown = false;
    }
  };
  const colour = (o: Outcome, s: string) =>
    o === "pass" ? style.green(s) : o === "fail" ? style.red(s) : o === "skipped" ? style.dim(s) : o === "error" ? style.magenta(s) : style.yellow(s);

  return {
    onBegin(info: RunInfo) {
      out.write(`${style.bold(`hagrade · ${w.grading} ${safeForTerminal(info.lab)}`)} · ${w.part} ${w.partName[info.part]}\n`);
    },
    onCheckProgress(id: string, progress: Text) {
      if (!tty) return;
      // Cut to the terminal's width before styling: a wrapped line could not be rewritten, a cut colour code would leave the terminal dim.
      const width = Math.max(20, (out.columns ?? 80) - 1);
      out.write(REWRITE + style.dim(`  … ${id}: ${safeForTerminal(progress[lang])}`.slice(0, width)));
      progressShown = true;
    },
    onCheckEnd(r: CheckResult) {
      clearProgress();
      const sym = tty ? SYMBOL[r.outcome] : w.plain[r.outcome];
      const pts = `${r.points}/${r.maxPoints}`;
      out.write(`${colour(r.outcome, sym)} ${style.bold(r.id)} ${style.dim(`(${pts})`)} ${safeForTerminal(r.message[lang])}\n`);
      if (r.fix && r.outcome !== "pass" && r.outcome !== "skipped") {
        out.write(`    ${style.dim(`${w.fix}:`)} ${safeForTerminal(r.fix[lang])}\n`);
      }
    },
    onEnd(result: RunResult) {
      clearProgress();
      const c = result.counts;
      const parts = (Object.keys(c) as Outcome[]).filter((k) => c[k] > 0).map((k) => colour(k, `${c[k]} ${w.counts[k]}`));
      const requests = result.traffic.httpRequests;
      out.write(
        `\n${style.bold(`${w.score}: ${result.score}/${result.maxScore}`)}  ${parts.join(" · ")}  ${style.dim(`(${(result.durationMs / 1000).toFixed(1)} s, ${requests} ${w.requests})`)}\n`,
      );
    },
  };
}
