import type { CheckResult, Evidence, Lang, Outcome, RunResult } from "../model/index.js";
import type { Reporter } from "./reporter.js";
import { writeReport } from "./output.js";
import { WORDS, eventKind, fieldName, formatDuration, formatNumber, kindTitle, labelText, type EventKind, type Words } from "./i18n.js";
import type { FileReporterOptions } from "./junit.js";
import { fixNext, oneLine, outcomeCount, overviewRows, shownCounts, SUMMARY_WORDS, OVERVIEW_ORDER, type CheckState, type Since } from "./overview.js";

/**
 * One self-contained HTML page: inline CSS and SVG drawn here, no scripts, no fetches, so it
 * can be mailed to a student, opened offline on a phone and printed.
 */
export function htmlReporter(path: string, options: FileReporterOptions): Reporter {
  return {
    onEnd: (result: RunResult) => writeReport(path, renderHtml(result, options)),
  };
}

/** The only way text reaches the page: lab output is hostile until proven otherwise. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}
const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

const ERROR_COLOUR = "#c62828";
const UNKNOWN_COLOUR = "#8a8a8a";
/** Colour-blind-friendly hues (Okabe–Ito), red left out: red means an error. */
const BACKEND_COLOURS = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#f0e442", "#6a3d9a", "#8c564b"];

const BADGE: Record<Outcome, { bg: string; fg: string; symbol: string }> = {
  pass: { bg: "#1b7f3b", fg: "#fff", symbol: "✔" },
  fail: { bg: "#c62828", fg: "#fff", symbol: "✘" },
  inconclusive: { bg: "#f9a825", fg: "#000", symbol: "?" },
  error: { bg: "#6a1b9a", fg: "#fff", symbol: "!" },
  skipped: { bg: "#757575", fg: "#fff", symbol: "–" },
};

interface Page {
  lang: Lang;
  w: Words;
  /** Redacts, then escapes: for every string that came from the lab or the run. */
  show(text: unknown): string;
  /** A label of the evidence (event, sample, client, answer) in the page's language, escaped. */
  label(label: unknown): string;
  colour(label: string): string;
}

export function renderHtml(result: RunResult, { lang, redact = (t) => t, since }: FileReporterOptions): string {
  const w = WORDS[lang];
  const palette = new Map<string, string>();
  for (const label of backendLabels(result)) palette.set(label, BACKEND_COLOURS[palette.size % BACKEND_COLOURS.length] ?? UNKNOWN_COLOUR);
  const page: Page = {
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
<style>${CSS}</style>
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

function header(r: RunResult, p: Page): string {
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
function fixNextSection(r: RunResult, p: Page): string {
  const s = SUMMARY_WORDS[p.lang];
  const fixes = fixNext(r);
  const body = fixes.length
    ? `<ol>${fixes.map((c) => `<li><a href="#${p.show(`check-${c.id}`)}"><code>${p.show(c.id)}</code></a> ${p.show(c.fix[p.lang])}</li>`).join("")}</ol>`
    : `<p>${escapeHtml(s.nothingToFix)}</p>`;
  return `<section id="fix-next" class="fix-next"><h2>${escapeHtml(s.fixNext)}</h2>${body}</section>`;
}

/** `--since`: the checks whose outcome or points changed from an earlier result. */
function sinceSection(since: Since, p: Page): string {
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
function overviewSection(r: RunResult, p: Page): string {
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

function badge(o: Outcome, p: Page): string {
  const b = BADGE[o];
  return `<span class="badge" style="background:${b.bg};color:${b.fg}">${b.symbol} ${escapeHtml(p.w.outcome[o] ?? o)}</span>`;
}

function card(c: CheckResult, p: Page): string {
  const { w, lang } = p;
  const fix = c.fix ? `<p class="fix"><b>${escapeHtml(w.fix)}:</b> ${p.show(c.fix[lang])}</p>` : "";
  const evidence = c.evidence.length ? `<div class="evidence"><h4>${escapeHtml(w.evidence)}</h4>${renderEvidence(c.evidence, p)}</div>` : "";
  return `<article class="card outcome-${c.outcome}" id="${p.show(`check-${c.id}`)}">
<div class="card-head">${badge(c.outcome, p)}<h3>${p.show(c.title[lang])} <code>${p.show(c.id)}</code></h3><span class="points">${escapeHtml(formatNumber(lang, c.points, decimals(c.points)))} / ${escapeHtml(formatNumber(lang, c.maxPoints, decimals(c.maxPoints)))} ${escapeHtml(w.points)}</span></div>
<p class="message">${p.show(c.message[lang])}</p>
${fix}
${evidence}
</article>`;
}

/** Consecutive cookie-trace rows are one table; every other item is drawn on its own. */
function renderEvidence(items: Evidence[], p: Page): string {
  const out: string[] = [];
  for (let i = 0; i < items.length; i++) {
    const e = items[i];
    if (!e) continue;
    if (e.kind === "cookie-trace") {
      const rows: Evidence[] = [];
      while (items[i]?.kind === "cookie-trace") rows.push(items[i++] as Evidence);
      i--;
      out.push(cookieTable(rows, p));
      continue;
    }
    out.push(evidenceItem(e, p));
  }
  return out.join("\n");
}

function evidenceItem(e: Evidence, p: Page): string {
  switch (e.kind) {
    case "sample":
      return sampleView(e, p);
    case "failover":
      return failoverView(e, p);
    case "vrrp-failover":
      return vrrpFailoverView(e, p);
    case "ssh-commands":
      return sshView(e, p);
    case "ssh-command":
      return sshView({ kind: "ssh-commands", commands: [e] }, p);
    case "http-request":
      return httpView(e, p);
    case "restore":
      return restoreView(e, p);
    default:
      return genericView(e, p);
  }
}

function sampleView(e: Evidence, p: Page): string {
  const { w } = p;
  const counts = record(e.counts);
  const ratio = record(e.ratio);
  const observed = record(ratio.observedShares);
  const expected = record(ratio.expectedShares);
  const ci = record(record(ratio.ci).shares);
  const level = typeof record(ratio.ci).level === "number" ? (record(ratio.ci).level as number) : undefined;
  const sequence = list(e.sequence).map((l) => String(l));
  const n = typeof e.n === "number" ? e.n : sequence.length;

  let chart = "";
  const backends = Object.keys(expected).length ? Object.keys(expected) : Object.keys(counts).filter((k) => !k.startsWith("error"));
  const total = Object.values(counts).reduce((s: number, v) => s + (typeof v === "number" ? v : 0), 0);
  if (backends.length) {
    const rowH = 26;
    const labelW = 120;
    const barW = 260;
    const h = backends.length * rowH + (Object.keys(expected).length ? 22 : 4);
    const rows = backends.map((b, i) => {
      const y = i * rowH + 4;
      const obs = typeof observed[b] === "number" ? (observed[b] as number) : total ? ((counts[b] as number | undefined) ?? 0) / total : 0;
      const exp = typeof expected[b] === "number" ? (expected[b] as number) : undefined;
      const interval = Array.isArray(ci[b]) ? (ci[b] as unknown[]).filter((x): x is number => typeof x === "number") : [];
      const x = (v: number) => (labelW + v * barW).toFixed(1);
      const whisker =
        interval.length === 2
          ? `<g class="ci"><line x1="${x(interval[0] ?? 0)}" x2="${x(interval[1] ?? 0)}" y1="${y + 8}" y2="${y + 8}" stroke="#000" stroke-width="1.5"/><line x1="${x(interval[0] ?? 0)}" x2="${x(interval[0] ?? 0)}" y1="${y + 3}" y2="${y + 13}" stroke="#000"/><line x1="${x(interval[1] ?? 0)}" x2="${x(interval[1] ?? 0)}" y1="${y + 3}" y2="${y + 13}" stroke="#000"/></g>`
          : "";
      const expMark = exp !== undefined ? `<rect class="expected" x="${(labelW + exp * barW - 1.5).toFixed(1)}" y="${y - 2}" width="3" height="20" fill="#000"><title>${p.show(`${w.expected} ${pct(p, exp)}`)}</title></rect>` : "";
      return `<text x="${labelW - 6}" y="${y + 12}" text-anchor="end">${p.label(b)}</text><rect x="${labelW}" y="${y}" width="${(obs * barW).toFixed(1)}" height="16" fill="${p.colour(b)}"><title>${p.show(`${labelText(b, p.lang)}: ${w.observed} ${pct(p, obs)}${exp !== undefined ? `, ${w.expected} ${pct(p, exp)}` : ""}`)}</title></rect>${whisker}${expMark}<text x="${labelW + barW + 6}" y="${y + 12}">${escapeHtml(pct(p, obs))}${exp !== undefined ? ` (${escapeHtml(pct(p, exp))})` : ""}</text>`;
    });
    // The marks' key; with no expected shares the chart has only bars, and needs none.
    const legend = Object.keys(expected).length
      ? `<text x="4" y="${h - 4}" class="legend">▮ ${escapeHtml(w.observed)} · | ${escapeHtml(w.expected)} · ├┤ ${escapeHtml(w.interval)}${level ? ` ${escapeHtml(pct(p, level))}` : ""} (Wilson)</text>`
      : "";
    chart = `<svg class="chart" viewBox="0 0 ${labelW + barW + 110} ${h}" role="img" aria-label="${escapeHtml(w.share)}">${rows.join("")}${legend}</svg>`;
  }

  const perRow = 50;
  const cell = 10;
  const seqRows = Math.ceil(sequence.length / perRow);
  const blocks = sequence
    .map((label, i) => `<rect x="${(i % perRow) * cell}" y="${Math.floor(i / perRow) * cell}" width="${cell - 1}" height="${cell - 1}" fill="${p.colour(label)}"><title>${p.show(`#${i + 1} ${labelText(label, p.lang)}`)}</title></rect>`)
    .join("");
  const seq = sequence.length
    ? `<p class="caption">${escapeHtml(w.sequence)} (${escapeHtml(w.sequenceLegend)})</p><svg class="sequence" viewBox="0 0 ${perRow * cell} ${seqRows * cell}" role="img" aria-label="${escapeHtml(w.sequence)}">${blocks}</svg>`
    : "";
  const legend = `<ul class="legend">${Object.entries(counts)
    .map(([label, count]) => `<li><span class="swatch" style="background:${p.colour(label)}"></span>${p.label(label)}: ${escapeHtml(String(count))}</li>`)
    .join("")}</ul>`;
  const explanation = record(ratio.explanation);
  const explain = typeof explanation[p.lang] === "string" ? `<p>${p.show(explanation[p.lang])}</p>` : "";
  const connections = typeof e.connections === "number" ? `, ${escapeHtml(String(e.connections))} ${escapeHtml(e.connections === 1 ? w.connection : w.connections)}` : "";
  return `<section class="ev ev-sample"><h5>${escapeHtml(w.sample)} ${p.label(e.name)} <small>(${p.label(e.mode)}; ${escapeHtml(String(n))} ${escapeHtml(w.requests)}${connections})</small></h5>
${chart}${explain}${seq}${legend}${traceTable(list(e.trace), p)}</section>`;
}

/** A sticky client's requests in order: the cookie it sent, who answered, the cookie it was given. */
function traceTable(trace: unknown[], p: Page): string {
  if (!trace.length) return "";
  const { w } = p;
  const body = trace
    .map(record)
    .map((r, i) => {
      const label = typeof r.label === "string" ? r.label : "";
      const set = list(r.set).map(String).join("\n");
      const sent = typeof r.sent === "string" && r.sent ? `<code>${p.show(r.sent)}</code>` : "-";
      return `<tr><td>${p.show(typeof r.seq === "number" ? r.seq : i + 1)}</td><td>${sent}</td><td><span class="swatch" style="background:${p.colour(label || "?")}"></span>${p.label(label || "-")}</td><td>${set ? `<code>${p.show(set)}</code>` : "-"}</td></tr>`;
    })
    .join("");
  return `<p class="caption">${escapeHtml(w.cookieTrace)}</p><div class="scroll"><table class="trace"><thead><tr><th>${escapeHtml(w.requestNumber)}</th><th>${escapeHtml(w.cookieSent)}</th><th>${escapeHtml(w.backendReached)}</th><th>${escapeHtml(w.setCookieReceived)}</th></tr></thead><tbody>${body}</tbody></table></div>`;
}

function cookieTable(rows: Evidence[], p: Page): string {
  const { w } = p;
  const body = rows
    .map((r) => {
      const cookie = record(r.cookie);
      const route = typeof cookie.route === "string" ? cookie.route : "";
      if (r.error !== undefined) return `<tr><td>${p.show(r.client)}</td><td colspan="4" class="bad">${escapeHtml(w.error)}: ${p.show(r.error)}</td></tr>`;
      const backend = typeof r.backend === "string" ? r.backend : "";
      return `<tr><td>${p.show(r.client)}</td><td>${p.show(r.status)}</td><td><span class="swatch" style="background:${p.colour(backend || "?")}"></span>${p.label(backend || r.label || "-")}</td><td><code>${p.show(list(r.setCookie).map(String).join("\n") || "-")}</code></td><td>${p.show(route || "-")}</td></tr>`;
    })
    .join("");
  return `<div class="scroll"><table><thead><tr><th>${escapeHtml(w.client)}</th><th>${escapeHtml(w.status)}</th><th>${escapeHtml(w.backend)}</th><th>${escapeHtml(w.setCookie)}</th><th>${escapeHtml(w.route)}</th></tr></thead><tbody>${body}</tbody></table></div>`;
}

const EVENT_COLOURS: Record<EventKind, string> = { stop: ERROR_COLOUR, start: "#1b7f3b", info: "#455a64" };

/**
 * Requests during a failover on a time axis: a lane per client, a mark per request coloured by
 * the server that answered (red squares: errors), a dashed line per event, coloured by what the
 * event is (the victim going down, coming back, or a moment in between). `outage` shades the time
 * the VIP did not serve.
 */
function timeline(marks: Record<string, unknown>[], events: Record<string, unknown>[], p: Page, title: string, outage?: [number, number]): string {
  const { w, lang } = p;
  const clients = [...new Set(marks.map((m) => String(m.client ?? "")))];
  const maxT = Math.max(1, ...marks.map((m) => num(m.t)), ...events.map((x) => num(x.t)), outage?.[1] ?? 0);
  const left = 90;
  const width = 520;
  const lane = 22;
  // Events close in time (stop, stopped, restoring) get their labels on staggered rows.
  const labelRows = 4;
  const top = 18 + (labelRows - 1) * 11;
  const h = top + Math.max(1, clients.length) * lane + 28;
  const x = (t: number) => (left + (t / maxT) * width).toFixed(1);
  const shade = outage
    ? `<rect class="outage" x="${x(outage[0])}" y="${top - 2}" width="${(Number(x(outage[1])) - Number(x(outage[0]))).toFixed(1)}" height="${Math.max(1, clients.length) * lane}" fill="${ERROR_COLOUR}" fill-opacity="0.12"/>`
    : "";
  const lanes = clients.map((c, i) => `<text x="${left - 6}" y="${top + i * lane + 14}" text-anchor="end">${p.label(c)}</text><line x1="${left}" x2="${left + width}" y1="${top + i * lane + 10}" y2="${top + i * lane + 10}" stroke="#ddd"/>`).join("");
  const dots = marks
    .map((m) => {
      const label = String(m.label ?? "");
      const y = top + clients.indexOf(String(m.client ?? "")) * lane + 10;
      const err = label.startsWith("error");
      const tip = `${formatNumber(lang, num(m.t) / 1000, 2)} s · ${labelText(String(m.client ?? ""), lang)} · ${labelText(label, lang)}${m.status !== undefined ? ` · ${String(m.status)}` : ""}${typeof m.route === "string" ? ` · ${w.route} ${m.route}` : ""}`;
      const shape = err
        ? `<rect x="${(Number(x(num(m.t))) - 4).toFixed(1)}" y="${y - 4}" width="8" height="8" fill="${ERROR_COLOUR}">`
        : `<circle cx="${x(num(m.t))}" cy="${y}" r="4" fill="${p.colour(label)}">`;
      return `${shape}<title>${p.show(tip)}</title>${err ? "</rect>" : "</circle>"}`;
    })
    .join("");
  const lines = events
    .map((ev, i) => {
      const what = String(ev.what ?? "");
      const kind = eventKind(what);
      const labelY = top - 6 - (i % labelRows) * 11;
      return `<line class="event-${kind}" x1="${x(num(ev.t))}" x2="${x(num(ev.t))}" y1="${labelY + 2}" y2="${h - 22}" stroke="${EVENT_COLOURS[kind]}" stroke-dasharray="4 3"/><text x="${x(num(ev.t))}" y="${labelY}" text-anchor="${num(ev.t) > maxT * 0.7 ? "end" : "start"}" class="event">${p.label(what)}</text>`;
    })
    .join("");
  const ticks = [0, 0.25, 0.5, 0.75, 1]
    .map((f) => `<text x="${(left + f * width).toFixed(1)}" y="${h - 6}" text-anchor="middle">${escapeHtml(formatNumber(lang, (f * maxT) / 1000, 1))}</text>`)
    .join("");
  const svg = `<svg class="timeline" viewBox="0 0 ${left + width + 40} ${h}" role="img" aria-label="${escapeHtml(title)}">${shade}${lanes}${lines}${dots}${ticks}<text x="${left + width + 36}" y="${h - 6}" text-anchor="end">${escapeHtml(w.seconds)}</text></svg>`;
  const labels = [...new Set(marks.map((m) => String(m.label ?? "")))];
  const legend = `<ul class="legend">${labels.map((l) => `<li><span class="swatch" style="background:${p.colour(l)}"></span>${p.label(l)}</li>`).join("")}</ul>`;
  return `<div class="scroll">${svg}</div>${legend}`;
}

function failoverView(e: Evidence, p: Page): string {
  const { w, lang } = p;
  const summary = [
    `${p.show(e.victim)}: ${escapeHtml(String(num(e.failedRequests)))} ${escapeHtml(w.failedRequests)}`,
    typeof e.detectMs === "number" ? `${escapeHtml(w.detectedIn)} ${escapeHtml(formatDuration(lang, e.detectMs))}` : "",
    typeof e.rejoinMs === "number" ? `${escapeHtml(w.rejoinedIn)} ${escapeHtml(formatDuration(lang, e.rejoinMs))}` : escapeHtml(w.notRejoined),
  ].filter(Boolean);
  return `<section class="ev ev-failover"><h5>${escapeHtml(w.timeline)}</h5><p>${summary.join("; ")}</p>${timeline(list(e.timeline).map(record), list(e.events).map(record), p, w.timeline)}</section>`;
}

/** keepalived stopped on the MASTER: how long the VIP did not serve until the BACKUP took it. */
function vrrpFailoverView(e: Evidence, p: Page): string {
  const { w, lang } = p;
  const events = list(e.events).map(record);
  const stoppedAt = events.length ? num(events[0]?.t) : 0;
  const outageMs = typeof e.outageMs === "number" ? e.outageMs : undefined;
  const served =
    e.masterReleased === false
      ? `<span class="bad">${escapeHtml(w.masterKeptVip)}</span>`
      : outageMs !== undefined
        ? `<b class="outage-time">${escapeHtml(w.servedAgainAfter)} ${escapeHtml(formatDuration(lang, outageMs))}</b>`
        : `<span class="bad">${escapeHtml(w.notServedAgain)}</span>`;
  const summary = `${p.show(e.master)} → ${p.show(e.backup)} (VIP ${p.show(e.vip)}): ${served}; ${escapeHtml(String(num(e.failedRequests)))} ${escapeHtml(w.failedRequests)}`;
  return `<section class="ev ev-failover ev-vrrp"><h5>${escapeHtml(w.vrrpTimeline)}</h5><p>${summary}</p>${timeline(
    list(e.timeline).map(record),
    events,
    p,
    w.vrrpTimeline,
    outageMs !== undefined ? [stoppedAt, stoppedAt + outageMs] : undefined,
  )}</section>`;
}

function sshView(e: Evidence, p: Page): string {
  const { w } = p;
  return `<section class="ev ev-ssh">${list(e.commands)
    .map(record)
    .map((c) => {
      const code = c.code === null || c.code === undefined ? "-" : String(c.code);
      const out = typeof c.stdout === "string" && c.stdout ? `<p class="caption">${escapeHtml(w.output)}</p><pre>${p.show(c.stdout)}</pre>` : `<p class="caption">${escapeHtml(w.noOutput)}</p>`;
      const err = typeof c.stderr === "string" && c.stderr ? `<p class="caption">${escapeHtml(w.errorOutput)}</p><pre>${p.show(c.stderr)}</pre>` : "";
      return `<details><summary><code>${p.show(c.host)}$ ${p.show(c.command)}</code> <small>(${escapeHtml(w.exitCode)} ${p.show(code)}${typeof c.durationMs === "number" ? `, ${escapeHtml(formatDuration(p.lang, c.durationMs))}` : ""})</small></summary>${out}${err}</details>`;
    })
    .join("")}</section>`;
}

function httpView(e: Evidence, p: Page): string {
  const { w } = p;
  if (e.ok === false) return `<section class="ev"><p><code>${p.show(e.url)}</code>: <span class="bad">${escapeHtml(w.error)}: ${p.show(e.error)}</span></p></section>`;
  const headers = Object.entries(record(e.headers))
    .map(([k, v]) => `<tr><th>${p.show(k)}</th><td>${p.show(v)}</td></tr>`)
    .join("");
  return `<section class="ev"><p><code>${p.show(e.url)}</code> → ${p.show(e.status)} ${p.label(e.label)}</p>${
    headers ? `<details><summary>${escapeHtml(w.headers)}</summary><div class="scroll"><table>${headers}</table></div></details>` : ""
  }${typeof e.bodyExcerpt === "string" ? `<details><summary>${escapeHtml(w.pageExcerpt)}</summary><pre>${p.show(e.bodyExcerpt)}</pre></details>` : ""}</section>`;
}

function restoreView(e: Evidence, p: Page): string {
  const { w } = p;
  const left = record(e.leftToDo);
  const todo = list(left.commands).map(String);
  return `<section class="ev"><p><b>${escapeHtml(w.restore)}</b> ${p.show(e.host)}: <span class="${e.restored === true ? "good" : "bad"}">${escapeHtml(e.restored === true ? w.restored : w.notRestored)}</span></p>${
    todo.length ? `<p>${escapeHtml(w.leftToDo)}:</p><pre>${p.show(todo.join("\n"))}</pre>` : ""
  }</section>`;
}

/**
 * Kinds with no drawing of their own: every field, named in the page's language, its value as
 * escaped JSON (a value given in both languages shows the page's).
 */
function genericView(e: Evidence, p: Page): string {
  const rows = Object.entries(e)
    .filter(([k]) => k !== "kind")
    .map(([k, v]) => {
      const shown = isText(v) ? v[p.lang] : typeof v === "string" ? v : JSON.stringify(v, null, 2);
      return `<tr><th>${p.show(fieldName(k, p.lang))}</th><td><pre>${p.show(shown)}</pre></td></tr>`;
    })
    .join("");
  const title = kindTitle(e.kind, p.lang);
  return `<section class="ev ev-generic"><h5>${title ? escapeHtml(title) : `<code>${p.show(e.kind)}</code>`}</h5><div class="scroll"><table>${rows}</table></div></section>`;
}

function isText(v: unknown): v is { es: string; en: string } {
  const r = record(v);
  return typeof r.es === "string" && typeof r.en === "string" && Object.keys(r).length === 2;
}

/** Backend labels in order of first appearance, so a backend keeps its colour on the whole page. */
function backendLabels(r: RunResult): string[] {
  const seen = new Set<string>();
  const add = (l: unknown) => {
    if (typeof l === "string" && l && !l.startsWith("error") && !l.startsWith("unknown") && l !== "unidentified") seen.add(l);
  };
  for (const c of r.checks) {
    for (const e of c.evidence) {
      Object.keys(record(record(e.ratio).expectedShares)).forEach(add);
      Object.keys(record(e.counts)).forEach(add);
      list(e.sequence).forEach(add);
      list(e.timeline).forEach((m) => add(record(m).label));
      if (e.kind === "cookie-trace") add(e.backend);
      list(e.trace).forEach((r) => add(record(r).label));
    }
  }
  return [...seen].sort();
}

function pct(p: Page, share: number): string {
  return `${formatNumber(p.lang, share * 100, 1)} %`;
}

function decimals(v: number): number {
  return Number.isInteger(v) ? 0 : 1;
}

function record(v: unknown): Record<string, unknown> {
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function num(v: unknown): number {
  return typeof v === "number" && Number.isFinite(v) ? v : 0;
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
.ev{margin:.4rem 0 .8rem}
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
