/**
 * Evidence drawn on the HTML scorecard: one renderer per kind (the compiler refuses a missing
 * one), tables and sentences a teacher reads, inline SVG for samples and timelines. Every text
 * that came from the lab or the run goes through `page.show` (redacted, then escaped).
 */
import {
  renderEvidence,
  safeForTerminal,
  type Evidence,
  type EvidenceKind,
  type EvidenceRenderers,
  type Lang,
  type RunResult,
  type SampleEvidence,
  type SshCommandRun,
  type TimelineEvent,
  type TimelineMark,
} from "../model/index.js";
import { EVIDENCE_TITLES, EVIDENCE_WORDS, NO_OWN_ANSWER, reachRole, reachState } from "./evidence-words.js";
import { eventKind, fieldName, formatDuration, formatNumber, kindTitle, labelText, type EventKind, type Words } from "./i18n.js";

/**
 * The only way text reaches the page: lab output is hostile until proven otherwise. Markup
 * characters are escaped and control characters (terminal escapes, NUL, the 8-bit CSI) are made
 * visible as \xNN, so a page or a header cannot hide text or reach the terminal of whoever saves it.
 */
export function escapeHtml(text: string): string {
  return safeForTerminal(text).replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}
const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export const ERROR_COLOUR = "#c62828";
export const UNKNOWN_COLOUR = "#8a8a8a";
/** Colour-blind-friendly hues (Okabe–Ito), red left out: red means an error. */
export const BACKEND_COLOURS = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#f0e442", "#6a3d9a", "#8c564b"];

/** What a renderer is given besides its evidence. */
export interface HtmlPage {
  lang: Lang;
  w: Words;
  /** Redacts, then escapes: for every string that came from the lab or the run. */
  show(text: unknown): string;
  /** A label of the evidence (event, sample, client, answer) in the page's language, escaped. */
  label(label: unknown): string;
  colour(label: string): string;
}

/** A check's evidence, each item drawn by the renderer of its kind. */
export function renderEvidenceHtml(items: readonly Evidence[], page: HtmlPage): string {
  return items.map((e) => renderEvidence(HTML, e, page)).join("\n");
}

/** Backend labels in order of first appearance, so a backend keeps its colour on the whole page. */
export function backendLabels(r: RunResult): string[] {
  const seen = new Set<string>();
  const add = (l: string | null | undefined) => {
    if (l && !l.startsWith("error") && !l.startsWith("unknown") && l !== "unidentified") seen.add(l);
  };
  for (const c of r.checks) {
    for (const e of c.evidence) {
      if (e.kind === "sample") {
        Object.keys(e.ratio?.expectedShares ?? {}).forEach(add);
        Object.keys(e.counts).forEach(add);
        e.sequence.forEach(add);
        e.trace?.forEach((t) => add(t.label));
      } else if (e.kind === "failover" || e.kind === "vrrp-failover") {
        e.timeline.forEach((m) => add(m.label));
      } else if (e.kind === "cookie-trace") {
        e.rows.forEach((row) => "backend" in row && add(row.backend));
      }
    }
  }
  return [...seen].sort();
}

/** A section of the page for one item: its kind's class and heading. */
function section(kind: EvidenceKind, p: HtmlPage, body: string, heading = escapeHtml(EVIDENCE_TITLES[kind][p.lang])): string {
  return `<section class="ev ev-${kind}"><h5>${heading}</h5>${body}</section>`;
}

function table(p: HtmlPage, headers: string[], rows: string[][]): string {
  return `<div class="scroll"><table><thead><tr>${headers.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join("")}</tr>`)
    .join("")}</tbody></table></div>`;
}

const mark = (ok: boolean) => (ok ? `<span class="good">✔</span>` : `<span class="bad">✘</span>`);
const code = (p: HtmlPage, text: unknown) => `<code>${p.show(text)}</code>`;
const seconds = (p: HtmlPage, s: number) => escapeHtml(formatDuration(p.lang, s * 1000));

/** The HTML renderer of each kind. */
export const HTML: EvidenceRenderers<string, HtmlPage> = {
  "http-request": (e, p) => {
    const { w } = p;
    const x = EVIDENCE_WORDS[p.lang];
    if (!e.ok) {
      return section(
        e.kind,
        p,
        `<p>GET ${code(p, e.url)} → <span class="bad">${escapeHtml(x.noAnswer)}: ${p.show(e.error.class)}</span></p>${e.error.message ? `<p>${p.show(e.error.message)}</p>` : ""}`,
      );
    }
    const who = e.backend ?? e.label;
    const headers = Object.entries(e.headers).map(([k, v]) => [p.show(k), p.show(v)]);
    return section(
      e.kind,
      p,
      `<p>GET ${code(p, e.url)} → <b>${p.show(e.status)}</b>${who ? `, ${escapeHtml(w.backend.toLowerCase())} ${e.backend ? `<span class="swatch" style="background:${p.colour(e.backend)}"></span>` : ""}${p.label(who)}` : ""} <small>(${escapeHtml(formatDuration(p.lang, e.latencyMs))})</small></p>${
        e.setCookie.length ? `<p>${escapeHtml(w.setCookie)}: ${code(p, e.setCookie.join("\n"))}</p>` : ""
      }${headers.length ? `<details><summary>${escapeHtml(w.headers)}</summary>${table(p, [w.headers, ""], headers)}</details>` : ""}${
        e.bodyExcerpt ? `<details><summary>${escapeHtml(w.pageExcerpt)}</summary><pre>${p.show(e.bodyExcerpt)}</pre></details>` : ""
      }`,
    );
  },
  sample: (e, p) => sampleView(e, p),
  "cookie-trace": (e, p) => {
    const { w } = p;
    const rows = e.rows.map((r) =>
      "error" in r
        ? [p.show(r.client), `<span class="bad">${escapeHtml(w.error)}: ${p.show(r.error.class)}</span>`, "", "", ""]
        : [
            p.show(r.client),
            p.show(r.status),
            `<span class="swatch" style="background:${p.colour(r.backend ?? "?")}"></span>${p.label(r.backend ?? r.label ?? "-")}`,
            r.setCookie.length ? code(p, r.setCookie.join("\n")) : "-",
            p.show(r.cookie?.route ?? "-"),
          ],
    );
    return section(e.kind, p, table(p, [w.client, w.status, w.backend, w.setCookie, w.route], rows));
  },
  "keep-alive-behaviour": (e, p) => {
    const x = EVIDENCE_WORDS[p.lang];
    const verdict = escapeHtml(x.behaviour[e.behaviour] ?? e.behaviour);
    return section(
      e.kind,
      p,
      `<p><b>${e.behaviour === "pinned" ? `<span class="bad">${verdict}</span>` : verdict}</b></p><p>${escapeHtml(x.oneConnection)}: ${p.show(e.n)} ${escapeHtml(x.answers)} (${p.show(e.nValid)} ${escapeHtml(x.fromExpected)}); ${escapeHtml(x.serversSeen)}: ${e.backendsSeen.map((b) => p.label(b)).join(", ") || escapeHtml(p.w.none)}; ${p.show(e.switches)} ${escapeHtml(x.switches)}.</p>`,
    );
  },
  "own-pages": (e, p) => {
    const x = EVIDENCE_WORDS[p.lang];
    return section(e.kind, p, table(p, [p.w.backend, x.address, x.pageServed], e.impostors.map((i) => [p.show(i.backend), p.show(i.address), `<span class="bad">${i.label === NO_OWN_ANSWER ? escapeHtml(x.noOwnAnswer) : p.label(i.label)}</span>`])));
  },
  "tcp-reach": (e, p) => {
    const x = EVIDENCE_WORDS[p.lang];
    const rows = e.probes.map((r) => {
      const answered = r.state === "connected" || r.state === "refused";
      return [
        `${code(p, `${r.address}:${r.port}`)} <small>(${escapeHtml(reachRole(r.role, p.lang))})</small>`,
        `<span class="${answered ? "good" : "bad"}">${p.show(reachState(r.state, r.code, p.lang))}</span>`,
        escapeHtml(formatDuration(p.lang, r.ms)),
      ];
    });
    return section(e.kind, p, table(p, [x.address, x.reachAnswer, x.reachTime], rows));
  },
  failover: (e, p) => {
    const { w, lang } = p;
    const summary = [
      `${p.show(e.victim)}: ${escapeHtml(String(e.failedRequests))} ${escapeHtml(w.failedRequests)}`,
      e.detectMs !== null ? `${escapeHtml(w.detectedIn)} ${escapeHtml(formatDuration(lang, e.detectMs))}` : "",
      e.rejoinMs !== null
        ? `${escapeHtml(w.rejoinedIn)} ${escapeHtml(formatDuration(lang, e.rejoinMs))}`
        : escapeHtml(e.rejoinMeasured === false ? w.rejoinNotMeasured : w.notRejoined),
    ].filter(Boolean);
    return section(e.kind, p, `<p>${summary.join("; ")}</p>${timeline(e.timeline, e.events, p, w.timeline)}`, escapeHtml(w.timeline));
  },
  "vrrp-failover": (e, p) => {
    const { w, lang } = p;
    const stoppedAt = e.events[0]?.t ?? 0;
    const served =
      e.masterReleased === false
        ? `<span class="bad">${escapeHtml(w.masterKeptVip)}</span>`
        : e.outageMs !== null
          ? `<b class="outage-time">${escapeHtml(w.servedAgainAfter)} ${escapeHtml(formatDuration(lang, e.outageMs))}</b>`
          : `<span class="bad">${escapeHtml(w.notServedAgain)}</span>`;
    const summary = `${p.show(e.master)} → ${p.show(e.backup)} (VIP ${p.show(e.vip)}): ${served}; ${escapeHtml(String(e.failedRequests))} ${escapeHtml(w.failedRequests)}`;
    return section(
      e.kind,
      p,
      `<p>${summary}</p>${timeline(e.timeline, e.events, p, w.vrrpTimeline, e.outageMs !== null ? [stoppedAt, stoppedAt + e.outageMs] : undefined)}`,
      escapeHtml(w.vrrpTimeline),
    );
  },
  restore: (e, p) => {
    const { w } = p;
    const x = EVIDENCE_WORDS[p.lang];
    const todo = e.leftToDo?.commands ?? [];
    return section(
      e.kind,
      p,
      `<p>${p.show(e.host)}: <span class="${e.restored ? "good" : "bad"}">${escapeHtml(e.restored ? w.restored : w.notRestored)}</span></p>${
        e.description ? `<p>${escapeHtml(x.description)}: ${p.show(e.description[p.lang])}</p>` : ""
      }${e.change ? `<p>${escapeHtml(x.change)}: ${code(p, e.change.command)}</p>` : ""}${todo.length ? `<p>${escapeHtml(w.leftToDo)}:</p><pre>${p.show(todo.join("\n"))}</pre>` : ""}`,
    );
  },
  "ssh-commands": (e, p) => section(e.kind, p, e.commands.map((c) => commandView(c, p)).join("")),
  "ssh-command": (e, p) => section(e.kind, p, commandView(e, p)),
  "ssh-error": (e, p) =>
    section(
      e.kind,
      p,
      `<p>${escapeHtml(EVIDENCE_WORDS[p.lang].sshTo)} ${p.show(e.error.host.name)} <small>(${p.show(e.error.host.address)})</small>: <span class="bad">${p.show(e.error.text[p.lang])}</span></p><p class="fix">${escapeHtml(p.w.fix)}: ${p.show(e.error.fix[p.lang])}</p>`,
    ),
  dependency: (e, p) =>
    section(e.kind, p, `<p>${escapeHtml(p.w.dependsOn)} <a href="#${p.show(`check-${e.dependsOn}`)}"><code>${p.show(e.dependsOn)}</code></a>: ${escapeHtml(p.w.outcome[e.outcome] ?? e.outcome)}</p>`),
  exception: (e, p) => section(e.kind, p, `<p>${p.show(e.errorKind)}: <span class="bad">${p.show(e.message)}</span></p>`),
  deadline: (e, p) => {
    const x = EVIDENCE_WORDS[p.lang];
    return section(e.kind, p, `<p>${escapeHtml(x.deadline)} (${escapeHtml(formatDuration(p.lang, e.timeoutMs))})${e.doing ? `; ${escapeHtml(x.wasDoing)}: ${p.show(e.doing[p.lang])}` : ""}.</p>`);
  },
  budget: (e, p) => {
    const x = EVIDENCE_WORDS[p.lang];
    return section(e.kind, p, `<p>${escapeHtml(x.budget)}${e.doing ? `; ${escapeHtml(x.wasDoing)}: ${p.show(e.doing[p.lang])}` : ""}.</p>`);
  },
  "default-routes": (e, p) => {
    const x = EVIDENCE_WORDS[p.lang];
    const rows = e.seen.map((s) => [
      p.show(s.backend),
      s.gateway === null ? `<span class="bad">${escapeHtml(x.noDefaultRoute)}</span>` : p.show(s.gateway),
      e.expected === null ? "" : mark(s.gateway === e.expected),
    ]);
    const expected = e.expected !== null ? `<p>${escapeHtml(x.expectedGateway)}: ${code(p, e.expected)}</p>` : "";
    const unreadable = e.unreadable
      ? `<p>${p.show(e.unreadable.backend)}: <span class="bad">${escapeHtml(x.unreadableRoutes)}</span>:</p><pre>${p.show(e.unreadable.output || p.w.noOutput)}</pre>`
      : "";
    return section(e.kind, p, `${expected}${rows.length ? table(p, [p.w.backend, x.defaultGateway, ""], rows) : ""}${unreadable}`);
  },
  "nat-rules": (e, p) => {
    const x = EVIDENCE_WORDS[p.lang];
    const rules = e.rules.length ? `<pre>${p.show(e.rules.join("\n"))}</pre>` : `<p class="bad">${escapeHtml(x.noNatRule)}</p>`;
    const covered = e.uncovered.length
      ? `<p class="bad">${escapeHtml(x.notCovered)}: ${e.uncovered.map((b) => p.show(b)).join(", ")}</p>`
      : `<p class="good">${escapeHtml(x.allCovered)}</p>`;
    return section(e.kind, p, `${rules}${covered}`, escapeHtml(x.natRules));
  },
  "nat-reach": (e, p) => {
    const x = EVIDENCE_WORDS[p.lang];
    const rows = e.reached.map((r) => [
      p.show(r.backend),
      r.from === null ? `<span class="${r.natted === null ? "" : "bad"}">${escapeHtml(r.natted === null ? x.unknownArrival : x.notArrived)}</span>` : `${escapeHtml(x.arrivedFrom)} ${code(p, r.from)}`,
      r.natted === null ? "" : `${mark(r.natted)} ${escapeHtml(r.natted ? x.natted : x.notNatted)}`,
    ]);
    return section(
      e.kind,
      p,
      `<p>${escapeHtml(x.natTarget)} ${code(p, e.target)}, ${escapeHtml(x.natExpectedFrom)} ${e.expectedFrom.map((a) => code(p, a)).join(", ")}:</p>${table(p, [p.w.backend, x.arrivedFrom, "NAT"], rows)}`,
    );
  },
  processes: (e, p) => {
    const x = EVIDENCE_WORDS[p.lang];
    if (e.listed === null) return section(e.kind, p, `<p>${code(p, e.name)}: <span class="bad">${escapeHtml(x.notListed)}</span>${e.unreadable ? ` (${escapeHtml(e.unreadable[p.lang])})` : ""}</p>`);
    const listed = e.listed !== undefined ? ` (${p.show(e.listed)} ${escapeHtml(x.processesListed)})` : "";
    if (e.found.length === 0) return section(e.kind, p, `<p>${code(p, e.name)}: ${escapeHtml(x.notRunning)}${listed}</p>`);
    return section(e.kind, p, `<p>${code(p, e.name)}: ${escapeHtml(x.running)}</p>${table(p, [x.pid, x.arguments], e.found.map((f) => [p.show(f.pid), f.args ? code(p, f.args) : ""]))}`);
  },
  "apache-modules": (e, p) => {
    const x = EVIDENCE_WORDS[p.lang];
    const proxy = (m: string) => /^(proxy|lbmethod|headers)/.test(m);
    return section(
      e.kind,
      p,
      `<p>${escapeHtml(x.os)}: ${p.show(e.os ?? e.family)} (${p.show(e.family)}); ${p.show(e.listed.length)} ${escapeHtml(x.modulesLoaded)}:</p><p class="modules">${e.listed
        .map((m) => (proxy(m) ? `<b><code>${p.show(m)}</code></b>` : `<code>${p.show(m)}</code>`))
        .join(" ")}</p>`,
    );
  },
  "ipvs-service": (e, p) => {
    const x = EVIDENCE_WORDS[p.lang];
    if (e.ipvsLoaded === false) return section(e.kind, p, `<p class="bad">${escapeHtml(x.ipvsNotLoaded)}</p>`);
    if (e.service === null) return section(e.kind, p, `<p class="bad">${escapeHtml(x.noService)}</p>`);
    const facts = [
      ...(e.persistent !== undefined ? [e.persistent === null ? escapeHtml(x.noPersistence) : `${escapeHtml(x.persistence)} ${p.show(e.persistent)} s`] : []),
      ...(e.tableWeights ? [`${escapeHtml(x.tableWeights)}: ${Object.entries(e.tableWeights).map(([k, v]) => `${p.show(k)} ${p.show(v)}`).join(", ")}`] : []),
    ];
    return section(e.kind, p, `<pre>${p.show([e.service, ...(e.realServers ?? []).map((s) => `  ${s}`)].join("\n"))}</pre>${facts.length ? `<p>${facts.join("; ")}</p>` : ""}`);
  },
  "kernel-modules": (e, p) => {
    const x = EVIDENCE_WORDS[p.lang];
    const notNeeded = e.notNeeded?.length ? `<p>${e.notNeeded.map((m) => code(p, m)).join(", ")}: ${escapeHtml(x.notNeeded)}</p>` : "";
    return section(e.kind, p, table(p, [x.required, x.loaded], e.required.map((m) => [code(p, m), `${mark(e.loaded.includes(m))}${e.loaded.includes(m) ? "" : ` ${escapeHtml(x.missing)}`}`])) + notNeeded);
  },
  sysctl: (e, p) => {
    const x = EVIDENCE_WORDS[p.lang];
    const value = e.value === null ? `<span class="bad">${escapeHtml(x.noValue)}</span>` : code(p, e.value);
    return section(e.kind, p, `<p>${code(p, e.key)} = ${value} (${escapeHtml(x.exitStatus)} ${p.show(e.exitCode ?? "?")})</p>`);
  },
  "keepalived-config": (e, p) => section(e.kind, p, `<p>${escapeHtml(EVIDENCE_WORDS[p.lang].filesRead)}: ${e.files.map((f) => code(p, f)).join(", ")}</p>`),
  "http-get-digests": (e, p) => {
    const x = EVIDENCE_WORDS[p.lang];
    const rows = e.realServers.map((s) => [
      `${p.show(s.backend)} <small>(${p.show(s.address)})</small>`,
      s.configured ? code(p, s.configured) : "-",
      s.computed ? code(p, s.computed) : "-",
      s.genhash ? code(p, s.genhash) : "-",
      `${mark(s.ok)}${s.problem ? ` ${p.show(s.problem[p.lang])}` : ""}`,
    ]);
    return section(e.kind, p, table(p, [p.w.backend, x.digestConfigured, x.digestComputed, x.digestGenhash, ""], rows));
  },
  "http-get-wrong-page": (e, p) => {
    const x = EVIDENCE_WORDS[p.lang];
    if (!e.ran) return section(e.kind, p, `<p>${escapeHtml(x.wrongPageNotRun)}: ${p.show(e.reason[p.lang])}</p>`);
    const left =
      e.left && e.leftAfterSeconds !== undefined
        ? `<span class="good">${escapeHtml(x.leftTableAfter)} ${seconds(p, e.leftAfterSeconds)}</span>`
        : `<span class="bad">${escapeHtml(x.notLeftTable)} ${seconds(p, e.watchedSeconds)}</span>`;
    const back =
      e.back === undefined
        ? ""
        : e.back && e.backAfterSeconds !== undefined
          ? `; <span class="good">${escapeHtml(x.backAfter)} ${seconds(p, e.backAfterSeconds)}</span>`
          : `; <span class="bad">${escapeHtml(x.notBack)} ${seconds(p, e.bounds.returnWaitSeconds)}</span>`;
    return section(
      e.kind,
      p,
      `<p>${p.show(e.victim)}, ${escapeHtml(x.wrongPage)} ${code(p, e.file)} (${code(p, e.urlPath)}): ${left} (${escapeHtml(x.bound)} ${seconds(p, e.bounds.removalWaitSeconds)})${back}</p><p><small>${p.show(e.bounds.formula[p.lang])}</small></p>${
        e.failure ? `<p class="bad">${p.show(e.failure.text[p.lang])}</p>` : ""
      }`,
    );
  },
  "persistence-template": (e, p) => {
    const x = EVIDENCE_WORDS[p.lang];
    if (e.template === null) return section(e.kind, p, `<p>${escapeHtml(x.noTemplate)}${e.client ? ` (${code(p, e.client)})` : ""}</p>`);
    return section(
      e.kind,
      p,
      `<p>${escapeHtml(x.graderClient)} ${code(p, e.client ?? "?")}${e.remainingSeconds !== null ? `: ${p.show(e.remainingSeconds)} s ${escapeHtml(x.left)}` : ""}</p><pre>${p.show(e.template)}</pre>`,
    );
  },
  "persistence-long": (e, p) => {
    const x = EVIDENCE_WORDS[p.lang];
    const facts = `<p>${escapeHtml(x.expectedPersistence)}: ${p.show(e.expectedSeconds)} s; ${escapeHtml(x.tablePersistence)}: ${e.tablePersistent === null ? `<span class="bad">${escapeHtml(x.noPersistence)}</span>` : `${p.show(e.tablePersistent)} s`}</p>`;
    const clients = e.clients?.length ? table(p, [p.w.client, p.w.backend], e.clients.map((c) => [code(p, c.address), p.label(c.server ?? "-")])) : "";
    const hold = e.holdProbe ? `<p>${code(p, e.holdProbe.address)}: ${escapeHtml(x.held)} ${seconds(p, e.holdProbe.idleSeconds)} ${escapeHtml(x.idle)}: ${p.label(e.holdProbe.server ?? "-")}</p>` : "";
    const idle = e.idleClient
      ? `<p>${escapeHtml(x.idleClient)} ${code(p, e.idleClient.address)}: ${e.idleClient.goneAfterSeconds !== null ? `${escapeHtml(x.goneAfter)} ${seconds(p, e.idleClient.goneAfterSeconds)}` : escapeHtml(x.stillThere)}</p>`
      : "";
    return section(e.kind, p, `${facts}${clients}${hold}${idle}`);
  },
  legacy: (e, p) => {
    // Evidence an older hagrade wrote in a shape of its own: every field, named in the page's
    // language, its value as escaped JSON (a value given in both languages shows the page's).
    const rows = Object.entries(e.fields).map(([k, v]) => {
      const shown = isText(v) ? v[p.lang] : typeof v === "string" ? v : JSON.stringify(v, null, 2);
      return [p.show(fieldName(k, p.lang)), `<pre>${p.show(shown)}</pre>`];
    });
    const title = kindTitle(e.originalKind, p.lang);
    return section(
      e.kind,
      p,
      `<p><small>${escapeHtml(EVIDENCE_WORDS[p.lang].oldResult)}</small></p><div class="scroll"><table>${rows.map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`).join("")}</table></div>`,
      title ? escapeHtml(title) : code(p, e.originalKind),
    );
  },
};

function isText(v: unknown): v is { es: string; en: string } {
  return typeof v === "object" && v !== null && typeof (v as { es?: unknown }).es === "string" && typeof (v as { en?: unknown }).en === "string" && Object.keys(v).length === 2;
}

function commandView(c: SshCommandRun, p: HtmlPage): string {
  const { w } = p;
  const exit = c.code === null ? "-" : String(c.code);
  const out = c.stdout ? `<p class="caption">${escapeHtml(w.output)}</p><pre>${p.show(c.stdout)}</pre>` : `<p class="caption">${escapeHtml(w.noOutput)}</p>`;
  const err = c.stderr ? `<p class="caption">${escapeHtml(w.errorOutput)}</p><pre>${p.show(c.stderr)}</pre>` : "";
  return `<details><summary><code>${p.show(c.host)}$ ${p.show(c.command)}</code> <small>(${escapeHtml(w.exitCode)} ${p.show(exit)}${typeof c.durationMs === "number" ? `, ${escapeHtml(formatDuration(p.lang, c.durationMs))}` : ""})</small></summary>${out}${err}</details>`;
}

function pct(p: HtmlPage, share: number): string {
  return `${formatNumber(p.lang, share * 100, 1)} %`;
}

function sampleView(e: SampleEvidence, p: HtmlPage): string {
  const { w } = p;
  const counts = e.counts;
  const observed = e.ratio?.observedShares ?? {};
  const expected = e.ratio?.expectedShares ?? {};
  const ci = e.ratio?.ci.shares ?? {};
  const level = e.ratio?.ci.level;
  const sequence = e.sequence;

  let chart = "";
  const backends = Object.keys(expected).length ? Object.keys(expected) : Object.keys(counts).filter((k) => !k.startsWith("error"));
  const total = Object.values(counts).reduce((s, v) => s + v, 0);
  if (backends.length) {
    const rowH = 26;
    const labelW = 120;
    const barW = 260;
    const h = backends.length * rowH + (Object.keys(expected).length ? 22 : 4);
    const rows = backends.map((b, i) => {
      const y = i * rowH + 4;
      const obs = observed[b] ?? (total ? (counts[b] ?? 0) / total : 0);
      const exp = expected[b];
      const interval = ci[b] ?? [];
      const x = (v: number) => (labelW + v * barW).toFixed(1);
      const whisker =
        interval.length === 2
          ? `<g class="ci"><line x1="${x(interval[0])}" x2="${x(interval[1])}" y1="${y + 8}" y2="${y + 8}" stroke="#000" stroke-width="1.5"/><line x1="${x(interval[0])}" x2="${x(interval[0])}" y1="${y + 3}" y2="${y + 13}" stroke="#000"/><line x1="${x(interval[1])}" x2="${x(interval[1])}" y1="${y + 3}" y2="${y + 13}" stroke="#000"/></g>`
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
  const explain = e.ratio?.explanation[p.lang] ? `<p>${p.show(e.ratio.explanation[p.lang])}</p>` : "";
  const connections = `, ${escapeHtml(String(e.connections))} ${escapeHtml(e.connections === 1 ? w.connection : w.connections)}`;
  const forged = e.forged ? `<p>${escapeHtml(w.cookieSent)}: ${code(p, e.forged)}</p>` : "";
  const errors = e.errors.length
    ? `<p class="bad">${e.errors.map((x) => `#${p.show(x.seq)} ${p.show(x.class)}${x.message ? `: ${p.show(x.message)}` : ""}`).join("<br>")}</p>`
    : "";
  return `<section class="ev ev-sample"><h5>${escapeHtml(w.sample)} ${p.label(e.name)} <small>(${p.label(e.mode)}; ${escapeHtml(String(e.n))} ${escapeHtml(w.requests)}${connections})</small></h5>
${forged}${chart}${explain}${seq}${legend}${errors}${traceTable(e, p)}</section>`;
}

/** A sticky client's requests in order: the cookie it sent, who answered, the cookie it was given. */
function traceTable(e: SampleEvidence, p: HtmlPage): string {
  const trace = e.trace ?? [];
  if (!trace.length) return "";
  const { w } = p;
  const rows = trace.map((r) => [
    p.show(r.seq),
    r.sent ? code(p, r.sent) : "-",
    `<span class="swatch" style="background:${p.colour(r.label || "?")}"></span>${p.label(r.label || "-")}`,
    r.set.length ? code(p, r.set.join("\n")) : "-",
  ]);
  return `<p class="caption">${escapeHtml(w.cookieTrace)}</p>${table(p, [w.requestNumber, w.cookieSent, w.backendReached, w.setCookieReceived], rows).replace("<table>", '<table class="trace">')}`;
}

const EVENT_COLOURS: Record<EventKind, string> = { stop: ERROR_COLOUR, start: "#1b7f3b", info: "#455a64" };

/**
 * Requests during a failover on a time axis: a lane per client, a mark per request coloured by
 * the server that answered (red squares: errors), a dashed line per event, coloured by what the
 * event is (the victim going down, coming back, or a moment in between). `outage` shades the time
 * the VIP did not serve.
 */
function timeline(marks: readonly TimelineMark[], events: readonly TimelineEvent[], p: HtmlPage, title: string, outage?: [number, number]): string {
  const { w, lang } = p;
  const clients = [...new Set(marks.map((m) => m.client))];
  const maxT = Math.max(1, ...marks.map((m) => m.t), ...events.map((x) => x.t), outage?.[1] ?? 0);
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
      const y = top + clients.indexOf(m.client) * lane + 10;
      const err = m.label.startsWith("error");
      const tip = `${formatNumber(lang, m.t / 1000, 2)} s · ${labelText(m.client, lang)} · ${labelText(m.label, lang)}${m.status !== undefined ? ` · ${m.status}` : ""}${typeof m.route === "string" ? ` · ${w.route} ${m.route}` : ""}`;
      const shape = err ? `<rect x="${(Number(x(m.t)) - 4).toFixed(1)}" y="${y - 4}" width="8" height="8" fill="${ERROR_COLOUR}">` : `<circle cx="${x(m.t)}" cy="${y}" r="4" fill="${p.colour(m.label)}">`;
      return `${shape}<title>${p.show(tip)}</title>${err ? "</rect>" : "</circle>"}`;
    })
    .join("");
  const lines = events
    .map((ev, i) => {
      const kind = eventKind(ev.what);
      const labelY = top - 6 - (i % labelRows) * 11;
      return `<line class="event-${kind}" x1="${x(ev.t)}" x2="${x(ev.t)}" y1="${labelY + 2}" y2="${h - 22}" stroke="${EVENT_COLOURS[kind]}" stroke-dasharray="4 3"/><text x="${x(ev.t)}" y="${labelY}" text-anchor="${ev.t > maxT * 0.7 ? "end" : "start"}" class="event">${p.label(ev.what)}</text>`;
    })
    .join("");
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => `<text x="${(left + f * width).toFixed(1)}" y="${h - 6}" text-anchor="middle">${escapeHtml(formatNumber(lang, (f * maxT) / 1000, 1))}</text>`).join("");
  const svg = `<svg class="timeline" viewBox="0 0 ${left + width + 40} ${h}" role="img" aria-label="${escapeHtml(title)}">${shade}${lanes}${lines}${dots}${ticks}<text x="${left + width + 36}" y="${h - 6}" text-anchor="end">${escapeHtml(w.seconds)}</text></svg>`;
  const labels = [...new Set(marks.map((m) => m.label))];
  const legend = `<ul class="legend">${labels.map((l) => `<li><span class="swatch" style="background:${p.colour(l)}"></span>${p.label(l)}</li>`).join("")}</ul>`;
  return `<div class="scroll">${svg}</div>${legend}`;
}

/** The evidence's own styles, added to the page's. */
export const EVIDENCE_CSS = `
.ev{margin:.4rem 0 .8rem}
.ev p{margin:.2rem 0}
.modules code{display:inline-block;margin:0 .2rem .1rem 0}
`;
