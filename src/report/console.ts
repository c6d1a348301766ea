import type { CheckInfo, CheckResult, Lang, Outcome, RunResult, Text } from "../model/index.js";
import { countOf } from "./plural.js";
import { SUMMARY_WORDS, type CheckState, type Since } from "./overview.js";
import type { Reporter, RunInfo } from "./reporter.js";
import { makeStyle, safeForTerminal, type Style } from "./terminal.js";
import { checkEvidenceLines } from "./evidence-text.js";

/** Under a check that did not pass, the first lines of its evidence (the HTML has the rest). */
const EVIDENCE_LIMITS = { maxLines: 6, maxChars: 200 };

interface Out {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** A symbol on a terminal; a word in CI logs, where a grep for the outcome must find it. */
const SYMBOL: Record<Outcome, string> = { pass: "✔", fail: "✘", inconclusive: "?", error: "!", skipped: "-" };

const WORDS = {
  es: {
    grading: "Evaluando", part: "parte", score: "Puntuación", requests: ["petición HTTP enviada", "peticiones HTTP enviadas"],
    fix: "Cómo arreglarlo", running: "en curso", start: "INICIO",
    counts: { pass: ["superada", "superadas"], fail: ["fallida", "fallidas"], inconclusive: ["no concluyente", "no concluyentes"], error: ["error", "errores"], skipped: ["omitida", "omitidas"] },
    plain: { pass: "SUPERADA", fail: "FALLIDA", inconclusive: "NO CONCLUYENTE", error: "ERROR", skipped: "OMITIDA" },
    partName: { lvs: "1 (keepalived + LVS)", proxy: "2 (proxy inverso Apache)" },
  },
  en: {
    grading: "Grading", part: "part", score: "Score", requests: ["HTTP request sent", "HTTP requests sent"],
    fix: "How to fix it", running: "running", start: "START",
    counts: { pass: ["passed", "passed"], fail: ["failed", "failed"], inconclusive: ["inconclusive", "inconclusive"], error: ["error", "errors"], skipped: ["skipped", "skipped"] },
    plain: { pass: "PASS", fail: "FAIL", inconclusive: "INCONCLUSIVE", error: "ERROR", skipped: "SKIP" },
    partName: { lvs: "1 (keepalived + LVS)", proxy: "2 (Apache reverse proxy)" },
  },
} as const;

/** Erase the whole line and go back to its start: the progress line is rewritten in place. */
const REWRITE = "\r\u001b[2K";

export interface ConsoleOptions {
  /**
   * Off a terminal, the longest silence while a check runs: then a line says what each running
   * check is doing and for how long (a 60-second failover wait must not look like a hang in CI).
   */
  heartbeatMs?: number;
  /** What changed since an earlier result of the same lab, said after the score. */
  since?: Since;
}

/**
 * A line per check as it ends. On a TTY a live progress line shows the check running
 * (sampling n of N, waiting for the failover, waiting for a server to rejoin), rewritten in place;
 * in CI logs (not a TTY) only plain lines are written, with no escape sequence at all: one when
 * each check starts, one when it ends, and a heartbeat after every `heartbeatMs` of silence.
 */
export function consoleReporter(lang: Lang, out: Out = process.stdout, env: NodeJS.ProcessEnv = process.env, options: ConsoleOptions = {}): Reporter {
  const style: Style = makeStyle(out, env);
  const tty = Boolean(out.isTTY) && env.TERM !== "dumb";
  const w = WORDS[lang];
  const heartbeatMs = options.heartbeatMs ?? 10_000;
  let progressShown = false;
  const clearProgress = () => {
    if (progressShown) {
      out.write(REWRITE);
      progressShown = false;
    }
  };
  const colour = (o: Outcome, s: string) =>
    o === "pass" ? style.green(s) : o === "fail" ? style.red(s) : o === "skipped" ? style.dim(s) : o === "error" ? style.magenta(s) : style.yellow(s);

  // Off a terminal: the checks running now, when each began and what it last said it was doing.
  const running = new Map<string, { since: number; doing?: Text }>();
  let heartbeat: NodeJS.Timeout | undefined;
  const line = (s: string) => {
    out.write(s);
    if (!tty) rearm();
  };
  const rearm = () => {
    if (heartbeat) clearTimeout(heartbeat);
    heartbeat = undefined;
    if (running.size === 0) return;
    heartbeat = setTimeout(() => {
      const now = Date.now();
      for (const [id, r] of running) {
        const doing = r.doing ? safeForTerminal(r.doing[lang]) : w.running;
        out.write(`  … ${id}: ${doing} (${Math.round((now - r.since) / 1000)} s)\n`);
      }
      rearm();
    }, heartbeatMs);
    heartbeat.unref();
  };

  return {
    onBegin(info: RunInfo) {
      line(`${style.bold(`hagrade · ${w.grading} ${safeForTerminal(info.lab)}`)} · ${w.part} ${w.partName[info.part]}\n`);
    },
    onCheckBegin(check: CheckInfo) {
      if (tty) return;
      running.set(check.id, { since: Date.now() });
      line(`${w.start} ${check.id}: ${safeForTerminal(check.title[lang])}\n`);
    },
    onCheckProgress(id: string, progress: Text) {
      if (!tty) {
        const r = running.get(id);
        if (r) r.doing = progress;
        return;
      }
      // Cut to the terminal's width before styling: a wrapped line could not be rewritten, a cut
      // colour code would leave the terminal dim. A terminal that reports no width gets 80.
      const columns = out.columns !== undefined && out.columns > 0 ? out.columns : 80;
      const width = Math.max(20, columns - 1);
      out.write(REWRITE + style.dim(`  … ${id}: ${safeForTerminal(progress[lang])}`.slice(0, width)));
      progressShown = true;
    },
    onCheckEnd(r: CheckResult) {
      clearProgress();
      running.delete(r.id);
      const sym = tty ? SYMBOL[r.outcome] : w.plain[r.outcome];
      const pts = `${r.points}/${r.maxPoints}`;
      let text = `${colour(r.outcome, sym)} ${style.bold(r.id)} ${style.dim(`(${pts})`)} ${safeForTerminal(r.message[lang])}\n`;
      if (r.outcome !== "pass" && r.outcome !== "skipped") {
        if (r.fix) text += `    ${style.dim(`${w.fix}:`)} ${safeForTerminal(r.fix[lang])}\n`;
        for (const l of checkEvidenceLines(r, lang, EVIDENCE_LIMITS)) text += `    ${style.dim(`· ${safeForTerminal(l)}`)}\n`;
      }
      line(text);
    },
    onEnd(result: RunResult) {
      clearProgress();
      running.clear();
      if (heartbeat) clearTimeout(heartbeat);
      const c = result.counts;
      const parts = (Object.keys(c) as Outcome[]).filter((k) => c[k] > 0).map((k) => colour(k, countOf(lang, c[k], w.counts[k])));
      const requests = countOf(lang, result.traffic.httpRequests, w.requests);
      out.write(
        `\n${style.bold(`${w.score}: ${result.score}/${result.maxScore}`)}  ${parts.join(" · ")}  ${style.dim(`(${(result.durationMs / 1000).toFixed(1)} s, ${requests})`)}\n`,
      );
      const since = options.since;
      if (since) {
        const s = SUMMARY_WORDS[lang];
        const state = (st: CheckState | undefined) => (st ? colour(st.outcome, `${w.plain[st.outcome]} ${st.points}/${st.maxPoints}`) : s.notGraded);
        out.write(`\n${style.bold(`${s.since} ${safeForTerminal(since.file)}`)} ${style.dim(`(${since.score}/${since.maxScore})`)}:\n`);
        if (since.changes.length === 0) out.write(`  ${s.noChange}\n`);
        for (const c of since.changes) out.write(`  ${c.id}: ${state(c.before)} → ${state(c.after)}\n`);
      }
    },
  };
}
