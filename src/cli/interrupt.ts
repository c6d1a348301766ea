/**
 * What a person pressing Ctrl-C during `hagrade run` is told: what is being put back on the lab
 * (the restore journal's open entries, read from disk), and, when the run ends before all of it
 * is restored (a second Ctrl-C, or the restore's own bound), the exact `hagrade restore` line.
 * The restoring itself is the journal's (src/ssh/journal.ts): this only speaks about it.
 */
import type { Lang } from "../model/index.js";
import { activeRestoreCount, configureRestoreSignals, listPendingJournals, shQuote } from "../ssh/index.js";
import { safeForTerminal } from "../report/terminal.js";

const CODES: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

const WORDS = {
  es: {
    nothing: "Interrumpido: la evaluación no había cambiado nada del laboratorio.",
    restoring: "Interrumpido: se restaura lo que la evaluación cambió antes de salir (Ctrl-C otra vez para salir ya, sin restaurar):",
    restored: "Restaurado y comprobado: el laboratorio queda como estaba.",
    cutShort: "Se salió antes de restaurarlo todo. Para terminarlo, ejecute:",
  },
  en: {
    nothing: "Interrupted: the run had changed nothing on the lab.",
    restoring: "Interrupted: putting back what the run changed before exiting (Ctrl-C again to leave now, unrestored):",
    restored: "Restored and verified: the lab is as it was.",
    cutShort: "Exited before everything was restored. To finish it, run:",
  },
} as const;

export interface InterruptOptions {
  /** Where this run writes its restore journals. */
  journalDir: string;
  /** The spec the run graded (the `hagrade restore` line names it). */
  specPath: string;
  lang: Lang;
  out?: { write(s: string): unknown };
}

/** Speaks about Ctrl-C (and SIGTERM) for the time of a run; returns the function that stops it. */
export function announceInterrupts(options: InterruptOptions): () => void {
  const out = options.out ?? process.stderr;
  const w = WORDS[options.lang];
  const open = () => listPendingJournals(options.journalDir).filter((j) => j.pid === process.pid);
  let announced = false;

  const onSignal = (signal: NodeJS.Signals) => {
    if (announced) return;
    announced = true;
    if (activeRestoreCount() === 0) {
      // Nothing is changed on the lab: leave as an interrupted command does.
      out.write(`\n${w.nothing}\n`);
      process.exit(CODES[signal] ?? 1);
    }
    out.write(`\n${w.restoring}\n`);
    for (const journal of open()) {
      for (const e of journal.entries) out.write(`  ${safeForTerminal(e.host)} (${safeForTerminal(e.address)}): ${safeForTerminal(e.description[options.lang])}\n`);
    }
  };
  // The journal ends the process once its restores are done, cut short or not: say which.
  configureRestoreSignals({
    exit: (code) => {
      const left = open();
      if (left.length === 0) out.write(`${w.restored}\n`);
      else {
        out.write(`${w.cutShort}\n`);
        for (const j of left) out.write(`  hagrade restore --journal ${shQuote(j.file)} --spec ${shQuote(j.specPath ?? options.specPath)}\n`);
      }
      process.exit(code);
    },
  });
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    configureRestoreSignals({ exit: (code) => process.exit(code) });
  };
}
