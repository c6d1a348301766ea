/**
 * No English in the Spanish report. The English labels the engine writes into evidence (failover
 * events, sample names and modes, timeline clients, progress labels) are read from the source of
 * the checks and the runner, so a label added later without a Spanish name makes this test fail.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consoleReporter } from "../../src/report/console.js";
import { renderHtml } from "../../src/report/html.js";
import { fieldName, kindTitle, labelText } from "../../src/report/i18n.js";
import { renderJunit } from "../../src/report/junit.js";
import { progressText } from "../../src/runner/context.js";
import type { CheckResult, Evidence, Lang, RunResult } from "../../src/runner/types.js";

const ROOT = resolve(import.meta.dirname, "../..");

async function sources(): Promise<{ file: string; text: string }[]> {
  const files = [
    ...(await readdir(join(ROOT, "checks"), { recursive: true })).filter((f) => f.endsWith(".ts")).map((f) => join("checks", f)),
    ...(await readdir(join(ROOT, "src/runner"), { recursive: true })).filter((f) => f.endsWith(".ts")).map((f) => join("src/runner", f)),
    "src/ssh/errors.ts",
  ];
  return Promise.all(files.map(async (file) => ({ file, text: await readFile(join(ROOT, file), "utf8") })));
}

const all = (text: string, re: RegExp) => [...text.matchAll(re)];

/** The English labels the source really writes; built ones ("from ${address}") by their stable prefix. */
interface Emitted {
  events: Set<string>;
  samples: Set<string>;
  prefixes: Set<string>;
  modes: Set<string>;
  clients: Set<string>;
  progress: Set<string>;
  answers: Set<string>;
}

function emittedLabels(files: { text: string }[], probeTypes: string): Emitted {
  const e: Emitted = { events: new Set(), samples: new Set(), prefixes: new Set(), modes: new Set(), clients: new Set(), progress: new Set(), answers: new Set() };
  const literalOrPrefix = (m: RegExpMatchArray, literal: Set<string>) => {
    if (m[1] !== undefined) literal.add(m[1]);
    else if (m[2]) e.prefixes.add(m[2]);
  };
  for (const { text } of files) {
    // Every literal of the call is an event name, but those a condition compares with.
    for (const m of all(text, /\.event\(([^;\n]*)\)/g)) for (const s of all((m[1] ?? "").replace(/[!=]==\s*"[^"]*"/g, ""), /"([^"]+)"/g)) e.events.add(s[1]!);
    for (const m of all(text, /sampleEvidence\(\s*(?:"([^"]+)"|`([^`$]*)\$\{)/g)) literalOrPrefix(m, e.samples);
    for (const m of all(text, /\bname: "([^"]+)", mode:/g)) e.samples.add(m[1]!);
    for (const m of all(text, /\bmode: "([^"]+)"/g)) e.modes.add(m[1]!);
    for (const m of all(text, /\blabel: (?:"([^"]+)"|`([^`$]*)\$\{)/g)) literalOrPrefix(m, e.progress);
    for (const m of all(text, /\{ name: "([^"]+)"(?:, client: [\w.]+)? \}/g)) e.clients.add(m[1]!);
    for (const m of all(text, /\(r\.label \?\? "([^"]+)"\)/g)) e.answers.add(m[1]!);
  }
  for (const m of all(/export type SampleMode = ([^;]+);/.exec(probeTypes)?.[1] ?? "", /"([^"]+)"/g)) e.modes.add(m[1]!);
  return e;
}

/** A built label with a value after its prefix, as a run writes it. */
const built = (prefix: string) => `${prefix}${prefix.endsWith(":") ? "1" : prefix.endsWith(".") ? "wsrv2" : "10.0.0.3"}`;

function check(id: string, evidence: Evidence[]): CheckResult {
  return {
    id,
    part: "lvs",
    title: { es: `Comprobación ${id}`, en: `Check ${id}` },
    outcome: "fail",
    points: 0,
    maxPoints: 1,
    message: { es: "Resultado de la prueba.", en: "Outcome of the test." },
    fix: { es: "Revise la configuración.", en: "Check the configuration." },
    evidence,
    startedAt: "2025-03-10T10:00:00.000Z",
    durationMs: 10,
  };
}

/** Every emitted label in one run: events on two timelines, each sample name and mode, each client lane. */
function labelsLab(e: Emitted): RunResult {
  const events = [...e.events].map((what, i) => ({ t: 100 * (i + 1), what }));
  const clients = [...e.clients];
  const answers = ["webserver1", "webserver2", ...e.answers, "error:timeout", "unknown:1"];
  const timeline = Array.from({ length: 40 }, (_, i) => ({ t: 50 * i, client: clients[i % clients.length]!, label: answers[i % answers.length]!, status: 200 }));
  const modes = [...e.modes];
  const samples = [...e.samples, ...[...e.prefixes].map(built)].map((name, i): Evidence => {
    const sequence = answers.slice(0, 4);
    return { kind: "sample", name, mode: modes[i % modes.length]!, n: sequence.length, counts: Object.fromEntries(sequence.map((l) => [l, 1])), connections: 1, sequence, errors: [] };
  });
  const checks = [
    check("lvs.failover", [{ kind: "failover", victim: "webserver1", survivors: ["webserver2"], failedRequests: 1, detectMs: 100, rejoinMs: 900, rejoined: true, stoppedBy: "ssh", events, timeline }]),
    check("lvs.vrrp-failover", [{ kind: "vrrp-failover", master: "10.0.0.2", backup: "10.0.0.3", vip: "10.0.0.10", masterReleased: true, outageMs: 3800, failedRequests: 3, events, timeline }]),
    // One check a sample: a JUnit failure lists only the first few evidence lines.
    ...samples.map((s, i) => check(`sample.${i}`, [s])),
  ];
  return {
    schemaVersion: 1,
    tool: { name: "hagrade", version: "0.1.0" },
    lab: "practica-ha",
    student: { id: "u1", name: "Ana" },
    part: "lvs",
    partSource: "spec",
    lang: "es",
    startedAt: "2025-03-10T10:00:00.000Z",
    durationMs: 5000,
    score: 0,
    maxScore: checks.length,
    counts: { pass: 0, fail: checks.length, inconclusive: 0, error: 0, skipped: 0 },
    traffic: { httpRequests: 100, sshCommands: 2 },
    notes: [],
    checks,
  };
}

function consoleOutput(result: RunResult, e: Emitted, lang: Lang): string {
  let out = "";
  const c = consoleReporter(lang, { isTTY: true, columns: 400, write: (s: string) => (out += s) }, { TERM: "xterm" });
  c.onBegin?.({ lab: result.lab, part: result.part, lang, checks: result.checks.map((k) => ({ id: k.id, title: k.title })), startedAt: result.startedAt });
  for (const label of [...e.progress, ...[...e.prefixes].map(built), ...e.samples, ...e.modes]) c.onCheckProgress?.("lvs.failover", progressText.sampling(label, 10, 400));
  c.onCheckProgress?.("lvs.failover", progressText.waitingForService("webserver1"));
  c.onCheckProgress?.("lvs.failover", progressText.waitingForFailover(2100, 30_000));
  c.onCheckProgress?.("lvs.failover", progressText.waitingForRejoin("webserver1", 3200, 90_000));
  c.onCheckProgress?.("lvs.vrrp-failover", progressText.waitingForVipBack("10.0.0.2"));
  for (const k of result.checks) c.onCheckEnd?.(k);
  void c.onEnd?.(result);
  return out;
}

/** The English label as a whole phrase (not a piece of a longer word) in `text`. */
const containsPhrase = (text: string, phrase: string) =>
  new RegExp(`(^|[^\\p{L}-])${phrase.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}([^\\p{L}-]|$)`, "u").test(text);

let dir: string;
let emitted: Emitted;
let english: string[];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "hagrade-untranslated-"));
  emitted = emittedLabels(await sources(), await readFile(join(ROOT, "src/probe/types.ts"), "utf8"));
  english = [
    ...new Set([
      ...emitted.events,
      ...emitted.samples,
      ...[...emitted.prefixes].map(built),
      ...emitted.modes,
      ...emitted.clients,
      ...emitted.progress,
      ...emitted.answers,
    ]),
  ];
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the English labels the engine writes", () => {
  it("are found in the source (the scan below has something to scan)", () => {
    for (const event of ["stop", "asked to stop", "stop confirmed", "start confirmed", "rejoined", "stop keepalived on the MASTER", "MASTER released the VIP"]) {
      expect(emitted.events, event).toContain(event);
    }
    for (const sample of ["one client", "other clients", "cookieless", "with-cookie"]) expect(emitted.samples, sample).toContain(sample);
    for (const prefix of ["from ", "forged "]) expect([...emitted.prefixes].some((p) => p.startsWith(prefix)), prefix).toBe(true);
    expect(emitted.modes).toEqual(new Set(["new-connection", "keep-alive"]));
    expect(emitted.clients).toContain("grader");
    expect(emitted.progress).toContain("forged cookie");
    expect(english.length).toBeGreaterThan(25);
  });

  it("each has a Spanish name of its own", () => {
    const missing = english.filter((label) => labelText(label, "es") === label || labelText(label, "en") !== label);
    expect(missing).toEqual([]);
  });

  it("never reach the Spanish HTML, JUnit or console output, while the English output has them", async () => {
    const result = labelsLab(emitted);
    const outputs: Record<Lang, { html: string; junit: string; console: string }> = { es: { html: "", junit: "", console: "" }, en: { html: "", junit: "", console: "" } };
    for (const lang of ["es", "en"] as const) {
      const file = join(dir, `labels-${lang}.html`);
      await writeFile(file, renderHtml(result, { lang }));
      // Visible text (an independent HTML parser's), SVG titles (tooltips) included, a line per text node.
      const visible = spawnSync("xmllint", ["--html", "--xpath", "/html//text()", file], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 }).stdout;
      expect(visible.length).toBeGreaterThan(1000);
      outputs[lang] = { html: visible, junit: renderJunit(result, { lang }), console: consoleOutput(result, emitted, lang) };
    }
    const leaks = Object.entries(outputs.es).flatMap(([format, text]) => english.filter((label) => containsPhrase(text, label)).map((label) => `${format}: ${label}`));
    expect(leaks).toEqual([]);
    // The same scan finds them in the English output: it is able to fail.
    const drawn = [...emitted.events, ...emitted.samples, ...[...emitted.prefixes].filter((p) => !emitted.progress.has(p)).map(built), ...emitted.modes, ...emitted.clients, ...emitted.answers];
    expect(drawn.filter((label) => !containsPhrase(outputs.en.html, label))).toEqual([]);
    const progress = [...emitted.progress, ...emitted.samples, ...emitted.modes];
    expect(progress.filter((label) => !containsPhrase(outputs.en.console, label))).toEqual([]);
    expect(containsPhrase(outputs.en.junit, "keep-alive")).toBe(true);
  });
});

describe("evidence drawn as a table of fields", () => {
  /**
   * `ev.kind({ field: …, … })` calls (and `{ kind: "…", field: … }` literals) of the source: the kind
   * and its own fields (spreads left out).
   */
  function evidenceFields(text: string): [string, string[]][] {
    const found: [string, string[]][] = [];
    for (const m of text.matchAll(/\{\s*kind: "([a-z-]+)"|\bev\.([a-zA-Z]+)\(\{/g)) {
      const kind = m[1] ?? m[2]!.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
      const keys: string[] = [];
      let depth = 0;
      let quote: string | undefined;
      let segment = "";
      for (let i = (m.index ?? 0) + m[0].indexOf("{") + 1; i < text.length; i++) {
        const c = text[i]!;
        if (quote) {
          if (c === "\\") i++;
          else if (c === quote) quote = undefined;
          segment += c;
          continue;
        }
        if (c === '"' || c === "'" || c === "`") quote = c;
        if ("([{".includes(c)) depth++;
        if (")]}".includes(c)) depth--;
        if (depth < 0 || (depth === 0 && c === ",")) {
          const key = /^\s*([A-Za-z_$][\w$]*)\s*(?::|$)/.exec(segment)?.[1];
          if (key && key !== "kind") keys.push(key);
          segment = "";
          if (depth < 0) break;
          continue;
        }
        segment += c;
      }
      found.push([kind, keys]);
    }
    return found;
  }
  const DRAWN = new Set(["sample", "failover", "vrrp-failover", "ssh-commands", "http-request", "restore", "cookie-trace", "mark", "legacy"]);

  it("are named in Spanish: the kind as a title, every field", async () => {
    const generic = (await sources()).flatMap(({ text }) => evidenceFields(text)).filter(([kind]) => !DRAWN.has(kind));
    const fields = new Set(generic.flatMap(([, keys]) => keys));
    expect(generic.length).toBeGreaterThan(15);
    expect(fields.size).toBeGreaterThan(20);
    expect([...new Set(generic.map(([kind]) => kind))].filter((kind) => !kindTitle(kind, "es"))).toEqual([]);
    expect([...fields].filter((key) => fieldName(key, "es") === key)).toEqual([]);
    // An old result's evidence of a shape no kind has today is a table: it names each field in Spanish.
    const evidence: Evidence = { kind: "legacy", originalKind: "ipvs-service", fields: Object.fromEntries([...fields].map((k) => [k, "x"])) };
    const result = labelsLab(emitted);
    const file = join(dir, "fields-es.html");
    await writeFile(file, renderHtml({ ...result, checks: [check("lvs.virtual-server", [evidence])] }, { lang: "es" }));
    const headers = spawnSync("xmllint", ["--html", "--xpath", "//section[contains(@class,'ev-legacy')]//th/text()", file], { encoding: "utf8" }).stdout.split("\n").filter(Boolean);
    expect(headers.length).toBe(fields.size);
    expect(headers.filter((h) => fields.has(h))).toEqual([]);
    expect(spawnSync("xmllint", ["--html", "--xpath", "string(//section[contains(@class,'ev-legacy')]/h5)", file], { encoding: "utf8" }).stdout.trim()).toBe("Servicio IPVS");
  });
});
