/**
 * The console reporter on a terminal and in a CI log: a live progress line rewritten in place on a
 * TTY, plain lines with no escape sequence otherwise, no colours with NO_COLOR. The stream is a
 * writable that says whether it is a TTY, as process.stdout does.
 */
import { describe, expect, it } from "vitest";
import { consoleReporter } from "../../src/report/console.js";
import { progressText } from "../../src/runner/context.js";
import type { Lang, RunResult } from "../../src/runner/types.js";
import { brokenLab, passingLab } from "./results.js";

const ESC = "\u001b";
// eslint-disable-next-line no-control-regex -- terminal escape sequences are what is tested here
const SGR = /\u001b\[[0-9;]*m/;
const SGR_ALL = new RegExp(SGR.source, "g");
const stripColour = (s: string) => s.replace(SGR_ALL, "");
const REWRITE = "\r\u001b[2K";

/** A run as the engine reports it: begin, per check a few progress lines and its end, then the end. */
function drive(result: RunResult, lang: Lang, stream: { isTTY: boolean; columns?: number }, env: NodeJS.ProcessEnv): string {
  let out = "";
  const reporter = consoleReporter(lang, { ...stream, write: (s: string) => (out += s) }, env);
  reporter.onBegin?.({ lab: result.lab, part: result.part, lang, checks: result.checks.map((c) => ({ id: c.id, title: c.title })), startedAt: result.startedAt });
  for (const check of result.checks) {
    if (check.id === "proxy.loadfactor") {
      for (const n of [1, 10, 20]) reporter.onCheckProgress?.(check.id, progressText.sampling("keep-alive", n, 400));
    }
    if (check.id === "proxy.failover") {
      reporter.onCheckProgress?.(check.id, progressText.waitingForFailover(2400, 30_000));
      reporter.onCheckProgress?.(check.id, progressText.waitingForRejoin("webserver1", 3200, 90_000));
    }
    reporter.onCheckEnd?.(check);
  }
  void reporter.onEnd?.(result);
  return out;
}

describe("console reporter", () => {
  it("on a terminal, rewrites one progress line in place and clears it before the check's line", () => {
    const out = drive(passingLab(), "es", { isTTY: true, columns: 120 }, { TERM: "xterm-256color" });
    const progress = out.split(REWRITE).slice(1);
    // Each progress line starts by erasing the previous one; none ends with a newline.
    const lines = progress.map(stripColour).filter((p) => p.startsWith("  … "));
    expect(lines.map((l) => l.split("\n")[0])).toEqual([
      "  … proxy.loadfactor: muestra «conexión persistente» 1/400",
      "  … proxy.loadfactor: muestra «conexión persistente» 10/400",
      "  … proxy.loadfactor: muestra «conexión persistente» 20/400",
      "  … proxy.failover: esperando la conmutación (2 s de 30 s como máximo)",
      "  … proxy.failover: esperando que webserver1 vuelva al servicio (3 s de 90 s como máximo)",
    ]);
    for (const l of lines) expect(l).not.toContain("\n");
    // The check's own line comes after the progress line is erased, on a clean line.
    expect(stripColour(out)).toContain(`20/400${REWRITE}✔ proxy.loadfactor (2/2)`);
    expect(out).toContain(`${REWRITE}${ESC}[32m✔${ESC}[39m ${ESC}[1mproxy.loadfactor`);
    expect(out).toMatch(SGR);
    expect(out).toContain("✔");
  });

  it("in English on a terminal, names the same waits in English", () => {
    const out = drive(passingLab(), "en", { isTTY: true, columns: 200 }, { TERM: "xterm" });
    expect(out).toContain('proxy.loadfactor: sampling "keep-alive" 20/400');
    expect(out).toContain("proxy.failover: waiting for the failover (2 s of 30 s at most)");
    expect(out).toContain("proxy.failover: waiting for webserver1 to rejoin (3 s of 90 s at most)");
  });

  it("cuts a progress line to the terminal's width, so it never wraps and can be rewritten", () => {
    const out = drive(passingLab(), "en", { isTTY: true, columns: 40 }, { TERM: "xterm" });
    const lines = out.split(REWRITE).slice(1).map(stripColour).filter((p) => p.startsWith("  … "));
    expect(lines.length).toBe(5);
    for (const l of lines) expect(l.split("\n")[0]!.length).toBeLessThan(40);
  });

  it("in a CI log (not a TTY), writes plain lines: no progress, no carriage return, no escape byte", () => {
    for (const lang of ["es", "en"] as const) {
      const result = brokenLab();
      const out = drive(result, lang, { isTTY: false }, { TERM: "xterm" });
      expect(out).not.toContain(ESC);
      expect(out).not.toContain("\r");
      expect(out).not.toContain("…");
      const lines = out.split("\n");
      // One line per check (plus its fix), each starting with the outcome as a word a grep finds.
      const words = lang === "es" ? { fail: "FALLIDA", skipped: "OMITIDA", pass: "SUPERADA" } : { fail: "FAIL", skipped: "SKIP", pass: "PASS" };
      for (const c of result.checks) {
        const line = lines.find((l) => l.includes(` ${c.id} `));
        expect(line, c.id).toBeDefined();
        if (c.outcome in words) expect(line!.startsWith(`${words[c.outcome as keyof typeof words]} ${c.id} (${c.points}/${c.maxPoints})`), line).toBe(true);
        expect(line).toContain(c.message[lang].split("<")[0]!);
      }
      expect(out).toContain(lang === "es" ? "Puntuación: " : "Score: ");
    }
  });

  it("with NO_COLOR on a terminal, keeps the live line but writes no colour", () => {
    const out = drive(brokenLab(), "es", { isTTY: true, columns: 120 }, { TERM: "xterm", NO_COLOR: "1" });
    expect(out).not.toMatch(SGR);
    expect(out).toContain(`${REWRITE}  … proxy.loadfactor: muestra «conexión persistente» 10/400`);
    // The same run with colours allowed does colour: the comparison can fail.
    expect(drive(brokenLab(), "es", { isTTY: true, columns: 120 }, { TERM: "xterm" })).toMatch(SGR);
  });

  it("makes terminal escapes from the lab visible instead of writing them", () => {
    const result = passingLab();
    const hostile = `${ESC}]0;owned${ESC}\\${ESC}[2J`;
    result.checks[0] = { ...result.checks[0]!, message: { es: `página: ${hostile}`, en: `page: ${hostile}` } };
    const out = drive(result, "es", { isTTY: false }, {});
    expect(out).not.toContain(ESC);
    expect(out).toContain("\\x1b]0;owned");
  });
});
