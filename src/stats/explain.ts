/**
 * The sentences a student reads next to a ratio verdict: what was seen, what was expected,
 * and how sure the grader is. Facts only; the check adds which config line to change, since
 * only it knows whether the lab is at LVS weights or Apache loadfactors.
 */

import type { Text } from "../model/index.js";

export interface ExplainFacts {
  labels: string[];
  counts: number[];
  otherCounts: Record<string, number>;
  n: number;
  nValid: number;
  observedRatio: string;
  expectedRatio: string;
}

function decimal(value: number, lang: "es" | "en", digits = 3): string {
  const text = Number(value.toPrecision(digits)).toString();
  return lang === "es" ? text.replace(".", ",") : text;
}

function countsText(facts: ExplainFacts): string {
  return facts.labels.map((label, i) => `${label}=${facts.counts[i] ?? 0}`).join(", ");
}

function othersText(others: Record<string, number>): string {
  return Object.entries(others)
    .map(([label, count]) => `${label}=${count}`)
    .join(", ");
}

function seen(facts: ExplainFacts): Text {
  const total = facts.nValid === facts.n ? "" : ` / ${facts.n}`;
  return {
    es: `observado ${facts.observedRatio} (${countsText(facts)}) en ${facts.nValid}${total} peticiones, esperado ${facts.expectedRatio}`,
    en: `observed ${facts.observedRatio} (${countsText(facts)}) in ${facts.nValid}${total} requests, expected ${facts.expectedRatio}`,
  };
}

function othersNote(facts: ExplainFacts): Text {
  const other = facts.n - facts.nValid;
  if (other === 0) return { es: "", en: "" };
  const list = othersText(facts.otherCounts);
  return {
    es: ` ${other} peticiones fallaron o mostraron una página desconocida (${list}) y no cuentan en el reparto.`,
    en: ` ${other} requests failed or showed an unknown page (${list}) and are not counted in the shares.`,
  };
}

function join(...parts: Text[]): Text {
  return { es: parts.map((p) => p.es).join(""), en: parts.map((p) => p.en).join("") };
}

/**
 * An exact-cycle verdict. What it rests on: no deterministic scheduler with another cycle of
 * up to maxCycle requests gives these answers (Fine–Wilf), and a random one repeats a cycle
 * this long with a chance below 1e-4; what it cannot tell: a scheduler whose cycle is longer.
 */
export function explainCycle(facts: ExplainFacts, cycle: readonly string[], repetitions: number, proportional: boolean, otherInCycle: boolean, maxCycle: number): Text {
  const cycleText = cycle.length <= 24 ? cycle.join(",") : `${cycle.slice(0, 24).join(",")},…`;
  const head = seen(facts);
  const body: Text = {
    es: `: ciclo exacto de ${cycle.length} peticiones (${cycleText}) repetido ${repetitions} veces, como hace un planificador determinista (ningún otro ciclo de hasta ${maxCycle} peticiones da estas respuestas, y un planificador aleatorio repite un ciclo tanto tiempo con probabilidad < 0,0001)`,
    en: `: an exact cycle of ${cycle.length} requests (${cycleText}) repeated ${repetitions} times, as a deterministic scheduler gives (no other cycle of up to ${maxCycle} requests gives these answers, and a random scheduler repeats a cycle this long with probability < 0.0001)`,
  };
  let verdict: Text;
  if (proportional) verdict = { es: "; el reparto es el esperado.", en: "; the shares are the expected ones." };
  else if (otherInCycle) verdict = { es: "; en cada ciclo hay peticiones que fallan o van a una página desconocida.", en: "; every cycle holds requests that fail or reach an unknown page." };
  else verdict = { es: `; el ciclo reparte ${facts.observedRatio}, no ${facts.expectedRatio}.`, en: `; the cycle shares ${facts.observedRatio}, not ${facts.expectedRatio}.` };
  return join(head, body, verdict, otherInCycle ? { es: "", en: "" } : othersNote(facts));
}

function likelihoodFactor(llr: number, lang: "es" | "en"): string {
  const factor = Math.exp(Math.abs(llr));
  if (factor >= 1e6) return lang === "es" ? "más de un millón de" : "more than a million";
  return decimal(factor, lang, 2).replace(/e\+?/, "e");
}

/** What a pass of the sequential test cannot tell from the expected ratio (decide.ts). */
export type Indifference = { kind: "between"; lower?: string; upper?: string } | { kind: "nearest"; nearest: string[] };

function indifferenceText(zone: Indifference, expected: string): Text {
  if (zone.kind === "nearest") {
    return {
      es: ` Los repartos más cercanos a ${expected} que ${zone.nearest.join(", ")} no se distinguen de ${expected}.`,
      en: ` Ratios closer to ${expected} than ${zone.nearest.join(", ")} are not told apart from ${expected}.`,
    };
  }
  if (zone.lower && zone.upper) {
    return {
      es: ` Los repartos estrictamente entre ${zone.lower} y ${zone.upper} no se distinguen de ${expected}.`,
      en: ` Ratios strictly between ${zone.lower} and ${zone.upper} are not told apart from ${expected}.`,
    };
  }
  const edge = zone.lower ?? zone.upper;
  if (!edge) return { es: "", en: "" };
  return {
    es: ` Los repartos entre ${edge} y ${expected} no se distinguen de ${expected}.`,
    en: ` Ratios between ${edge} and ${expected} are not told apart from ${expected}.`,
  };
}

/**
 * A pass of the sequential test: the alternatives it ruled out, the chance a lab at one of
 * them passes (β), and the ratios it cannot tell from the expected one.
 */
export function explainSprtPass(facts: ExplainFacts, rejected: readonly string[], beta: number, zone: Indifference): Text {
  const list = rejected.join(", ");
  return join(
    seen(facts),
    {
      es: `: coincide. Se descartan los repartos erróneos cercanos (${list}): un laboratorio con uno de ellos pasa con probabilidad ≤ ${decimal(beta, "es")}.`,
      en: `: consistent. The nearby wrong ratios (${list}) are ruled out: a lab at one of them passes with probability ≤ ${decimal(beta, "en")}.`,
    },
    indifferenceText(zone, facts.expectedRatio),
    othersNote(facts),
  );
}

/** A wrong configuration in words: "2:1", or "1:0 (only 1 answers)". */
export function alternativeText(name: string, kind: string, labels: readonly string[], weights: readonly number[]): Text {
  if (kind === "only") {
    const label = labels[weights.findIndex((w) => w > 0)] ?? "?";
    return { es: `${name} (solo responde ${label})`, en: `${name} (only ${label} answers)` };
  }
  if (kind === "without") {
    const missing = labels.filter((_, i) => (weights[i] ?? 0) === 0).join(", ");
    return { es: `${name} (${missing} no recibe peticiones)`, en: `${name} (${missing} gets no requests)` };
  }
  return { es: name, en: name };
}

export function explainSprtFail(facts: ExplainFacts, alternative: Text, llr: number | null, alpha: number): Text {
  const strength =
    llr === null
      ? { es: "", en: "" }
      : {
          es: ` (${likelihoodFactor(llr, "es")} veces más probable que ${facts.expectedRatio}; un laboratorio con ${facts.expectedRatio} suspende así con probabilidad ≤ ${decimal(alpha, "es")})`,
          en: ` (${likelihoodFactor(llr, "en")} times more likely than ${facts.expectedRatio}; a lab at ${facts.expectedRatio} fails like this with probability ≤ ${decimal(alpha, "en")})`,
        };
  return join(
    seen(facts),
    { es: `: el reparto corresponde a ${alternative.es}`, en: `: the shares match ${alternative.en}` },
    strength,
    { es: ".", en: "." },
    othersNote(facts),
  );
}

export function explainMaxSamples(facts: ExplainFacts, open: readonly string[], maxSamples: number, suggested: number | undefined): Text {
  const more =
    suggested !== undefined
      ? { es: ` Con sampling.maxRequests = ${suggested} se decide el 95 % de las veces.`, en: ` sampling.maxRequests = ${suggested} decides 95 % of the time.` }
      : { es: "", en: "" };
  const head = facts.nValid === 0 ? noneReached(facts) : seen(facts);
  return join(
    head,
    {
      es: `: tras ${maxSamples} peticiones aún no se distingue ${facts.expectedRatio} de ${open.join(", ")}.`,
      en: `: after ${maxSamples} requests ${facts.expectedRatio} cannot yet be told from ${open.join(", ")}.`,
    },
    more,
    facts.nValid === 0 ? { es: "", en: "" } : othersNote(facts),
  );
}

/**
 * The sequential test would pass, but the answers still repeat a period short enough to be a
 * deterministic scheduler with another ratio: the cycle rule needs `requiredLength` answers.
 */
export function explainCycleUnresolved(facts: ExplainFacts, period: number, requiredLength: number, maxCycle: number): Text {
  const more = Number.isFinite(requiredLength)
    ? {
        es: ` Con sampling.maxRequests ≥ ${requiredLength} se decide de forma exacta.`,
        en: ` sampling.maxRequests ≥ ${requiredLength} decides it exactly.`,
      }
    : { es: "", en: "" };
  return join(
    seen(facts),
    {
      es: `: las respuestas repiten un ciclo de ${period} peticiones, y tras ${facts.n} peticiones un planificador determinista con otro reparto (ciclo de hasta ${maxCycle} peticiones) aún puede dar las mismas; no se aprueba.`,
      en: `: the answers repeat a cycle of ${period} requests, and after ${facts.n} requests a deterministic scheduler with another ratio (a cycle of up to ${maxCycle} requests) can still give the same ones; no pass.`,
    },
    more,
    othersNote(facts),
  );
}

function noneReached(facts: ExplainFacts): Text {
  const list = othersText(facts.otherCounts);
  return {
    es: `ninguna de las ${facts.n} peticiones llegó a un servidor web conocido (${list})`,
    en: `none of the ${facts.n} requests reached a known web server (${list})`,
  };
}

export function explainTooManyErrors(facts: ExplainFacts, maxOtherShare: number): Text {
  const other = facts.n - facts.nValid;
  if (facts.nValid === 0) {
    return join(noneReached(facts), { es: "; no se puede juzgar el reparto.", en: "; the shares cannot be judged." });
  }
  const list = othersText(facts.otherCounts);
  return {
    es: `${other} de ${facts.n} peticiones fallaron o mostraron una página desconocida (${list}), más del ${decimal(maxOtherShare * 100, "es")} %; no se puede juzgar el reparto (${countsText(facts)}).`,
    en: `${other} of ${facts.n} requests failed or showed an unknown page (${list}), over ${decimal(maxOtherShare * 100, "en")} %; the shares cannot be judged (${countsText(facts)}).`,
  };
}
