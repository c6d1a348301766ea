/**
 * The class page: score distribution, each check's pass rate across the class (item analysis:
 * which step the class failed most, and whether a check tells strong labs from weak ones), and a
 * row per student linking to their scorecard. Self-contained like the scorecard: no scripts.
 */
import type { ClassItem, ClassSummary, LabStatus } from "../model/index.js";
import type { Lang } from "../model/index.js";
import { escapeHtml } from "./html.js";

/** A lab's status in a few words, for the class page and the console. */
export const LAB_STATUS_WORDS: Record<Lang, Record<LabStatus, string>> = {
  en: { graded: "graded", unreachable: "unreachable", timeout: "out of time", "bad-spec": "bad spec", crashed: "grader crashed" },
  es: { graded: "evaluada", unreachable: "inalcanzable", timeout: "sin tiempo", "bad-spec": "spec inválido", crashed: "fallo del evaluador" },
};

const WORDS = {
  en: {
    title: "hagrade — class results",
    labs: "Labs",
    graded: "graded",
    status: LAB_STATUS_WORDS.en,
    distribution: "Score distribution (percent of each lab's maximum)",
    mean: "mean",
    median: "median",
    items: "Checks across the class (item analysis), hardest first",
    check: "Check",
    passRate: "Passed",
    credit: "Mean credit",
    discrimination: "Discrimination",
    discriminationHelp: "correlation between passing this check and the rest of the score; near 0 or below: the check does not separate strong labs from weak ones",
    students: "Students",
    student: "Student",
    score: "Score",
    note: "Note",
    scorecard: "scorecard",
    outcomes: "pass / fail / inconclusive / error / skipped",
    leftToRestore: "left to restore by hand",
  },
  es: {
    title: "hagrade — resultados del grupo",
    labs: "Prácticas",
    graded: "evaluadas",
    status: LAB_STATUS_WORDS.es,
    distribution: "Distribución de notas (porcentaje del máximo de cada práctica)",
    mean: "media",
    median: "mediana",
    items: "Comprobaciones en el grupo (análisis de ítems), las más difíciles primero",
    check: "Comprobación",
    passRate: "Superada",
    credit: "Crédito medio",
    discrimination: "Discriminación",
    discriminationHelp: "correlación entre superar esta comprobación y el resto de la nota; cerca de 0 o negativa: no separa las prácticas buenas de las flojas",
    students: "Estudiantes",
    student: "Estudiante",
    score: "Nota",
    note: "Observaciones",
    scorecard: "hoja",
    outcomes: "superada / fallida / no concluyente / fallo del evaluador / omitida",
    leftToRestore: "pendiente de restaurar a mano",
  },
} as const;

export function renderClassHtml(summary: ClassSummary, lang: Lang, generatedAt: string): string {
  const w = WORDS[lang];
  const e = escapeHtml;
  const pct = (x: number | null) => (x === null ? "–" : `${x.toFixed(1)} %`);
  const items = [...summary.items].sort((a, b) => a.passRate - b.passRate || a.id.localeCompare(b.id));
  const statusLine = (Object.keys(summary.statusCounts) as LabStatus[])
    .filter((s) => summary.statusCounts[s] > 0)
    .map((s) => `${summary.statusCounts[s]} ${e(w.status[s])}`)
    .join(" · ");
  return `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(w.title)}</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#1a1a1a}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;width:100%}th,td{padding:.35rem .5rem;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}td.rate{text-align:left;white-space:nowrap;font-variant-numeric:tabular-nums}.bar{display:inline-block;height:.8rem;background:#1b7f3b;vertical-align:middle}
.barbg{display:inline-block;width:8rem;height:.8rem;background:#e8e8e8;vertical-align:middle;margin-right:.4rem}
.s-graded{color:#1b7f3b}.s-unreachable,.s-timeout,.s-crashed{color:#6a1b9a}.s-bad-spec{color:#c62828}
small{color:#555}
@media print{a{color:inherit;text-decoration:none}}
</style></head><body>
<h1>${e(w.title)}</h1>
<p>${summary.labs.length} ${e(w.labs.toLowerCase())}: ${statusLine} · ${e(w.mean)} ${pct(summary.scores.meanPercent)} · ${e(w.median)} ${pct(summary.scores.medianPercent)} · <small>${e(generatedAt)}</small></p>
<h2>${e(w.distribution)}</h2>
${histogramSvg(summary.scores.histogram)}
<h2>${e(w.items)}</h2>
<table><thead><tr><th>${e(w.check)}</th><th>${e(w.passRate)}</th><th>${e(w.credit)}</th><th title="${e(w.discriminationHelp)}">${e(w.discrimination)}</th><th><small>${e(w.outcomes)}</small></th></tr></thead><tbody>
${items.map((i) => itemRow(i, lang)).join("\n")}
</tbody></table>
<p><small>${e(w.discrimination)}: ${e(w.discriminationHelp)}.</small></p>
<h2>${e(w.students)}</h2>
<table><thead><tr><th>${e(w.student)}</th><th>${e(w.score)}</th><th>${e(w.note)}</th></tr></thead><tbody>
${summary.labs
  .map((l) => {
    const who = [l.student.name, l.student.id].filter(Boolean).join(" · ");
    const score = l.status === "graded" && l.score !== undefined ? `${l.score} / ${l.maxScore}` : `<span class="s-${l.status}">${e(w.status[l.status])}</span>`;
    const link = l.scorecard ? ` <a href="../${encodeURI(l.scorecard)}">${e(w.scorecard)}</a>` : "";
    const left = l.leftToRestore?.length ? ` <strong>${e(w.leftToRestore)}</strong>` : "";
    return `<tr><td>${e(who)} <small>${e(l.lab)}</small>${link}</td><td class="n">${score}</td><td>${e(l.reason?.[lang] ?? "")}${left}</td></tr>`;
  })
  .join("\n")}
</tbody></table>
</body></html>
`;
}

function itemRow(i: ClassItem, lang: Lang): string {
  const e = escapeHtml;
  const c = i.counts;
  const width = Math.round(i.passRate * 100);
  return `<tr><td><code>${e(i.id)}</code><br><small>${e(i.title[lang])}</small></td><td class="rate"><span class="barbg"><span class="bar" style="width:${width}%"></span></span>${width} %</td><td class="n">${(i.meanCredit * 100).toFixed(0)} %</td><td class="n">${i.discrimination === null ? "–" : i.discrimination.toFixed(2)}</td><td class="n">${c.pass} / ${c.fail} / ${c.inconclusive} / ${c.error} / ${c.skipped}</td></tr>`;
}

function histogramSvg(bins: number[]): string {
  const max = Math.max(1, ...bins);
  const w = 40;
  const h = 120;
  const bars = bins
    .map((n, i) => {
      const bh = Math.round((n / max) * h);
      return `<rect x="${i * w + 4}" y="${h - bh + 4}" width="${w - 8}" height="${bh}" fill="#0072b2"><title>${i * 10}–${i === 9 ? 100 : i * 10 + 10} %: ${n}</title></rect>` +
        (n ? `<text x="${i * w + w / 2}" y="${h - bh}" font-size="11" text-anchor="middle">${n}</text>` : "") +
        `<text x="${i * w + w / 2}" y="${h + 18}" font-size="10" text-anchor="middle">${i * 10}</text>`;
    })
    .join("");
  return `<svg role="img" width="${bins.length * w}" height="${h + 24}" viewBox="0 0 ${bins.length * w} ${h + 24}" xmlns="http://www.w3.org/2000/svg">${bars}</svg>`;
}
