import type { CheckResult, Lang, Outcome, RunResult } from "../runner/types.js";
import type { Reporter, RunInfo } from "./reporter.js";
import { makeStyle, safeForTerminal, type Style } from "./terminal.js";

interface Out {
  write(s: string): unknown;
  isTTY?: boolean;
}

const SYMBOL: Record<Outcome, { tty: string; plain: string }> = {
  pass: { tty: "✔", plain: "PASS" },
  fail: { tty: "✘", plain: "FAIL" },
  inconclusive: { tty: "?", plain: "INCONCLUSIVE" },
  error: { tty: "!", plain: "ERROR" },
  skipped: { tty: "-", plain: "SKIP" },
};

const WORDS = {
  es: {
    grading: "Evaluando", part: "parte", score: "Puntuación", requests: "peticiones HTTP enviadas",
    fix: "Cómo arreglarlo", counts: { pass: "superadas", fail: "fallidas", inconclusive: "no concluyentes", error: "errores", skipped: "omitidas" },
    partName: { lvs: "1 (keepalived + LVS)", proxy: "2 (proxy inverso Apache)" },
  },
  en: {
    grading: "Grading", part: "part", score: "Score", requests: "HTTP requests sent",
    fix: "How to fix it", counts: { pass: "passed", fail: "failed", inconclusive: "inconclusive", error: "errors", skipped: "skipped" },
    partName: { lvs: "1 (keepalived + LVS)", proxy: "2 (Apache reverse proxy)" },
  },
} as const;

/**
 * A line per check as it ends. On a TTY a live progress line shows the check running
 * (sampling n of N, waiting for failover); in CI logs only plain lines are written.
 */
export function consoleReporter(lang: Lang, out: Out = process.stdout, env: NodeJS.ProcessEnv = process.env): Reporter {
  const style: Style = makeStyle(out, env);
  const tty = Boolean(out.isTTY) && env.TERM !== "dumb";
  const w = WORDS[lang];
  let progressShown = false;
  const clearProgress = () => {
    if (progressShown) {
      out.write("\r\u001b[2K");
      progressShown = false;
    }
  };
  const colour = (o: Outcome, s: string) =>
    o === "pass" ? style.green(s) : o === "fail" ? style.red(s) : o === "skipped" ? style.dim(s) : o === "error" ? style.magenta(s) : style.yellow(s);

  return {
    onBegin(info: RunInfo) {
      out.write(`${style.bold(`hagrade · ${w.grading} ${safeForTerminal(info.lab)}`)} · ${w.part} ${w.partName[info.part]}\n`);
    },
    onCheckProgress(id, text) {
      if (!tty) return;
      clearProgress();
      // Cut before styling: a cut colour code would leave the terminal dim.
      out.write(style.dim(`  … ${id}: ${safeForTerminal(text)}`.slice(0, 200)));
      progressShown = true;
    },
    onCheckEnd(r: CheckResult) {
      clearProgress();
      const sym = tty ? SYMBOL[r.outcome].tty : SYMBOL[r.outcome].plain;
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
