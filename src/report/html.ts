import type { CheckResult, Outcome, RunResult } from "../model/index.js";
import type { Reporter } from "./reporter.js";
import { writeReport } from "./output.js";
import { WORDS, formatDuration, formatNumber, labelText } from "./i18n.js";
import {
  BACKEND_COLOURS,
  ERROR_COLOUR,
  EVIDENCE_CSS,
  UNKNOWN_COLOUR,
  backendLabels,
  escapeHtml,
  renderEvidenceHtml,
  type HtmlPage,
} from "./html-evidence.js";
import type { FileReporterOptions } from "./junit.js";
import { fixNext, oneLine, outcomeCount, overviewRows, shownCounts, SUMMARY_WORDS, OVERVIEW_ORDER, type CheckState, type Since } from "./overview.js";

export { escapeHtml };

/**
 * One self-contained HTML page: inline CSS and SVG drawn here, no scripts, no fetches, so it
 * can be mailed to a student, opened offline on a phone and printed.
 */
export function htmlReporter(path: string, options: FileReporterOptions): Reporter {
  return {
    onEnd: (result: RunResult) => writeReport(path, renderHtml(result, options)),
  };
}

const BADGE: Record<Outcome, { bg: string; fg: string; symbol: string }> = {
  pass: { bg: "#1b7f3b", fg: "#fff", symbol: "✔" },
  fail: { bg: "#c62828", fg: "#fff", symbol: "✘" },
  inconclusive: { bg: "#f9a825", fg: "#000", symbol: "?" },
  error: { bg: "#6a1b9a", fg: "#fff", symbol: "!" },
  skipped: { bg: "#757575", fg: "#fff", symbol: "–" },
};

export function renderHtml(result: RunResult, { lang, redact = (t) => t, since }: FileReporterOptions): string {
  const w = WORDS[lang];
  const palette = new Map<string, string>();
  for (const label of backendLabels(result)) palette.set(label, BACKEND_COLOURS[palette.size % BACKEND_COLOURS.length] ?? UNKNOWN_COLOUR);
  const page: HtmlPage = {
    lang,
    w,
    show: (text) => escapeHtml(redact(typeof text === "string" ? text : text === undefined || text === null ? "" : JSON.stringify(text))),
    label: (label) => page.show(typeof label === "string" ? labelText(label, lang) : label),
    colour: (label) => (label.startsWith("error") ? ERROR_COLOUR : (palette.get(label) ?? UNKNOWN_COLOUR)),
  };
  const who = result.student?.name ?? result.student?.id;
  const html = `<!DOCTYPE html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${page.show(`${w.title}: ${who ?? result.lab}`)}</title>
<style>${CSS}${EVIDENCE_CSS}</style>
</head>
<body>
${header(result, page)}
${fixNextSection(result, page)}
${since ? sinceSection(since, page) : ""}
${filterInputs(result)}
${overviewSection(result, page)}
<main>
<h2>${escapeHtml(w.checks)}</h2>
${result.checks.map((c) => card(c, page)).join("\n")}
</main>
<footer>hagrade ${page.show(result.tool.version)}</footer>
</body>
</html>
`;
  // Each text was redacted before escaping; this pass catches a secret that spans two texts.
  return redact(html);
}

function header(r: RunResult, p: HtmlPage): string {
  const { w, lang } = p;
  const fraction = r.maxScore > 0 ? Math.max(0, Math.min(1, r.score / r.maxScore)) : 0;
  const date = new Intl.DateTimeFormat(lang === "es" ? "es-ES" : "en-GB", { dateStyle: "long", timeStyle: "short", timeZone: "UTC" }).format(new Date(r.startedAt));
  const facts: [string, string][] = [
    [w.lab, p.show(r.lab)],
    ...(r.student?.name || r.student?.id ? ([[w.student, p.show([r.student.name, r.student.id ? `(${r.student.id})` : ""].filter(Boolean).join(" "))]] as [string, string][]) : []),
    [w.part, `${escapeHtml(w.partName[r.part] ?? r.part)} <small>(${escapeHtml(w.partSource[r.partSource] ?? r.partSource)})</small>`],
    [w.date, `${escapeHtml(date)} UTC`],
    [w.duration, escapeHtml(formatDuration(lang, r.durationMs))],
    [w.httpRequests, escapeHtml(formatNumber(lang, r.traffic.httpRequests))],
    [w.sshCommands, escapeHtml(formatNumber(lang, r.traffic.sshCommands))],
    [w.version, p.show(r.tool.version)],
  ];
  // Only the outcomes that happened, failures first.
  const counts = shownCounts(r)
    .map(([o, n]) => {
      const b = BADGE[o];
      return `<li><span class="badge" style="background:${b.bg};color:${b.fg}">${b.symbol} ${escapeHtml(outcomeCount(lang, o, n))}</span></li>`;
    })
    .join("");
  const notes = r.notes.length
    ? `<section class="notes"><h2>${escapeHtml(w.notes)}</h2><ul>${r.notes.map((n) => `<li>${p.show(n[lang])}</li>`).join("")}</ul></section>`
    : "";
  return `<header>
<h1>${escapeHtml(w.title)}</h1>
<div class="summary">
<div class="score" role="img" aria-label="${escapeHtml(`${w.score}: ${formatNumber(lang, r.score, decimals(r.score))} / ${formatNumber(lang, r.maxScore, decimals(r.maxScore))}`)}">
<div class="score-number"><span class="big">${escapeHtml(formatNumber(lang, r.score, decimals(r.score)))}</span> / ${escapeHtml(formatNumber(lang, r.maxScore, decimals(r.maxScore)))} <small>${escapeHtml(w.points)}</small></div>
<svg class="score-bar" viewBox="0 0 100 8" preserveAspectRatio="none" aria-hidden="true"><rect width="100" height="8" fill="#e0e0e0"/><rect width="${(fraction * 100).toFixed(1)}" height="8" fill="${fraction >= 0.5 ? "#1b7f3b" : "#c62828"}"/></svg>
</div>
<dl>${facts.map(([k, v]) => `<div><dt>${escapeHtml(k)}</dt><dd>${v}</dd></div>`).join("")}</dl>
</div>
<ul class="counts">${counts}</ul>
${notes}
</header>`;
}

/** The failed checks' fixes in rubric order, each linked to its card: what to do first. */
function fixNextSection(r: RunResult, p: HtmlPage): string {
  const s = SUMMARY_WORDS[p.lang];
  const fixes = fixNext(r);
  const body = fixes.length
    ? `<ol>${fixes.map((c) => `<li><a href="#${p.show(`check-${c.id}`)}"><code>${p.show(c.id)}</code></a> ${p.show(c.fix[p.lang])}</li>`).join("")}</ol>`
    : `<p>${escapeHtml(s.nothingToFix)}</p>`;
  return `<section id="fix-next" class="fix-next"><h2>${escapeHtml(s.fixNext)}</h2>${body}</section>`;
}

/** `--since`: the checks whose outcome or points changed from an earlier result. */
function sinceSection(since: Since, p: HtmlPage): string {
  const s = SUMMARY_WORDS[p.lang];
  const state = (st: CheckState | undefined) =>
    st ? `${badge(st.outcome, p)} ${escapeHtml(formatNumber(p.lang, st.points, decimals(st.points)))}/${escapeHtml(formatNumber(p.lang, st.maxPoints, decimals(st.maxPoints)))}` : escapeHtml(s.notGraded);
  const rows = since.changes.map(
    (c) => `<li><a href="#${p.show(`check-${c.id}`)}"><code>${p.show(c.id)}</code></a> ${p.show(c.title[p.lang])}: ${state(c.before)} → ${state(c.after)}</li>`,
  );
  const score = `${formatNumber(p.lang, since.score, decimals(since.score))} / ${formatNumber(p.lang, since.maxScore, decimals(since.maxScore))}`;
  return `<section id="since" class="since"><h2>${escapeHtml(s.since)} <code>${p.show(since.file)}</code> <small>(${escapeHtml(score)})</small></h2>${
    rows.length ? `<ul>${rows.join("")}</ul>` : `<p>${escapeHtml(s.noChange)}</p>`
  }</section>`;
}

/**
 * The filter by outcome, without a script (the page's CSP allows none): one radio input per
 * outcome that happened, before the overview and the cards, so `:checked ~` hides what is not chosen.
 */
function filterInputs(r: RunResult): string {
  const shown = shownCounts(r).map(([o]) => o);
  return [`<input type="radio" name="show" id="show-all" class="filter" checked>`, ...shown.map((o) => `<input type="radio" name="show" id="show-${o}" class="filter">`)].join("\n");
}

/** Every check on one screen, failures first: check, outcome, points, one line, linked to its card. */
function overviewSection(r: RunResult, p: HtmlPage): string {
  const { w, lang } = p;
  const s = SUMMARY_WORDS[lang];
  const labels = [
    `<label for="show-all">${escapeHtml(s.all)} (${r.checks.length})</label>`,
    ...shownCounts(r).map(([o, n]) => `<label for="show-${o}">${BADGE[o].symbol} ${escapeHtml(w.outcome[o] ?? o)} (${n})</label>`),
  ];
  const rows = overviewRows(r).map(
    (c) => `<tr class="row-${c.outcome}">
<td class="ov-check"><a href="#${p.show(`check-${c.id}`)}"><code>${p.show(c.id)}</code></a> <span class="ov-title">${p.show(c.title[lang])}</span></td>
<td class="ov-outcome">${badge(c.outcome, p)}</td>
<td class="ov-points">${escapeHtml(formatNumber(lang, c.points, decimals(c.points)))}/${escapeHtml(formatNumber(lang, c.maxPoints, decimals(c.maxPoints)))}</td>
<td class="ov-message">${p.show(oneLine(c.message[lang]))}</td>
</tr>`,
  );
  return `<section id="overview" class="overview">
<h2>${escapeHtml(s.overview)}</h2>
<div class="filters"><span>${escapeHtml(s.filter)}:</span> ${labels.join(" ")}</div>
<table>
<thead><tr><th>${escapeHtml(s.check)}</th><th>${escapeHtml(s.outcome)}</th><th>${escapeHtml(s.points)}</th><th>${escapeHtml(s.message)}</th></tr></thead>
<tbody>
${rows.join("\n")}
</tbody>
</table>
</section>`;
}

function badge(o: Outcome, p: HtmlPage): string {
  const b = BADGE[o];
  return `<span class="badge" style="background:${b.bg};color:${b.fg}">${b.symbol} ${escapeHtml(p.w.outcome[o] ?? o)}</span>`;
}

function card(c: CheckResult, p: HtmlPage): string {
  const { w, lang } = p;
  const fix = c.fix ? `<p class="fix"><b>${escapeHtml(w.fix)}:</b> ${p.show(c.fix[lang])}</p>` : "";
  const evidence = c.evidence.length ? `<div class="evidence"><h4>${escapeHtml(w.evidence)}</h4>${renderEvidenceHtml(c.evidence, p)}</div>` : "";
  return `<article class="card outcome-${c.outcome}" id="${p.show(`check-${c.id}`)}">
<div class="card-head">${badge(c.outcome, p)}<h3>${p.show(c.title[lang])} <code>${p.show(c.id)}</code></h3><span class="points">${escapeHtml(formatNumber(lang, c.points, decimals(c.points)))} / ${escapeHtml(formatNumber(lang, c.maxPoints, decimals(c.maxPoints)))} ${escapeHtml(w.points)}</span></div>
<p class="message">${p.show(c.message[lang])}</p>
${fix}
${evidence}
</article>`;
}

function decimals(v: number): number {
  return Number.isInteger(v) ? 0 : 1;
}

const CSS = `
:root{color-scheme:light;--fg:#1a1a1a;--muted:#555;--line:#ddd}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);margin:0 auto;max-width:960px;padding:12px}
h1{font-size:1.4rem;margin:.2rem 0 .8rem}
h2{font-size:1.15rem;margin:1.2rem 0 .5rem}
h3{font-size:1rem;margin:0;flex:1 1 12rem}
h4{font-size:.9rem;margin:.6rem 0 .3rem;color:var(--muted)}
h5{font-size:.9rem;margin:.4rem 0}
code,pre{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,monospace;font-size:.85em}
pre{white-space:pre-wrap;word-break:break-word;background:#f6f6f6;padding:6px;margin:.2rem 0;max-height:24rem;overflow:auto}
.summary{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
.score{flex:1 1 220px}
.score-number{font-size:1.2rem}
.big{font-size:3rem;font-weight:700;line-height:1}
.score-bar{width:100%;height:14px;display:block;margin-top:6px}
dl{flex:2 1 320px;display:grid;grid-template-columns:repeat(auto-fit,minmax(200px,1fr));gap:4px 16px;margin:0}
dt{font-size:.8rem;color:var(--muted)}
dd{margin:0}
.counts{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:8px 16px}
.badge{display:inline-block;border-radius:4px;padding:1px 8px;font-weight:600;font-size:.85rem;white-space:nowrap}
.card{border:1px solid var(--line);border-left-width:6px;border-radius:6px;padding:10px 12px;margin:10px 0;break-inside:avoid}
.outcome-pass{border-left-color:#1b7f3b}.outcome-fail{border-left-color:#c62828}.outcome-inconclusive{border-left-color:#f9a825}.outcome-error{border-left-color:#6a1b9a}.outcome-skipped{border-left-color:#757575}
.card-head{display:flex;flex-wrap:wrap;gap:8px;align-items:center}
.points{font-weight:600;white-space:nowrap}
.fix{background:#fff8e1;padding:6px 8px;border-radius:4px}
svg{max-width:100%;height:auto;font:11px system-ui,sans-serif}
.chart{width:100%;max-width:520px}
.sequence{width:100%;max-width:520px}
.timeline{width:100%;min-width:420px}
.event{font-size:10px}
.legend{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:4px 14px;font-size:.85rem}
.swatch{display:inline-block;width:.8em;height:.8em;margin-right:4px;vertical-align:-1px;border:1px solid #0003}
.caption{font-size:.8rem;color:var(--muted);margin:.3rem 0 .1rem}
.scroll{overflow-x:auto}
table{border-collapse:collapse;font-size:.85rem}
th,td{border:1px solid var(--line);padding:3px 6px;text-align:left;vertical-align:top}
.bad{color:#c62828;font-weight:600}.good{color:#1b7f3b;font-weight:600}
details{margin:.2rem 0}
summary{cursor:pointer}
footer{color:var(--muted);font-size:.8rem;margin:1.5rem 0}
.fix-next ol{margin:.3rem 0;padding-left:1.4rem}.fix-next li{margin:.25rem 0}
.since ul{margin:.3rem 0;padding-left:1.2rem}
.overview table{width:100%}
.ov-points{white-space:nowrap}
.ov-title{color:var(--muted)}
.filter{position:absolute;opacity:0;width:1px;height:1px;margin:0}
.filters{display:flex;flex-wrap:wrap;gap:6px;align-items:center;margin:.3rem 0 .6rem}
.filters label{border:1px solid var(--line);border-radius:14px;padding:2px 10px;cursor:pointer;font-size:.85rem}
#show-all:checked~.overview label[for=show-all]${OVERVIEW_ORDER.map((o) => `,#show-${o}:checked~.overview label[for=show-${o}]`).join("")}{background:#1a1a1a;color:#fff;border-color:#1a1a1a}
${OVERVIEW_ORDER.map((o) => `#show-${o}:checked~.overview tbody tr:not(.row-${o}),#show-${o}:checked~main .card:not(.outcome-${o})`).join(",")}{display:none}
.filter:focus-visible~.overview .filters{outline:2px solid #1565c0;outline-offset:2px}
.card:target{outline:3px solid #1565c0;outline-offset:2px}
@media (max-width:540px){body{padding:8px;font-size:14px}.big{font-size:2.4rem}
 .overview thead{display:none}
 .overview table,.overview tbody{display:block}
 .overview tr{display:grid;grid-template-columns:1fr auto;gap:2px 8px;border-top:1px solid var(--line);padding:6px 0}
 .overview td{border:0;padding:0;overflow-wrap:anywhere}
 .overview .ov-check{grid-row:1 / 3;grid-column:1}
 .overview .ov-outcome{grid-row:1;grid-column:2}
 .overview .ov-points{grid-row:2;grid-column:2;text-align:right}
 .overview .ov-message{grid-column:1 / -1}
}
@media print{.filters,.filter{display:none}}
@media print{
 body{max-width:none;padding:0;font-size:11pt}
 .card{border-left-width:4px}
 .badge,.swatch,svg{-webkit-print-color-adjust:exact;print-color-adjust:exact}
 pre{max-height:none;overflow:visible}
 details::details-content{content-visibility:visible;display:block}
 .scroll{overflow:visible}
 .timeline{min-width:0}
}
`;
