/**
 * Evidence as plain lines, in the report's language: what a teacher reading a CI log (JUnit,
 * and any text format) needs to see. One renderer per kind; the compiler refuses a missing one.
 * Text from the lab is returned as it came: each format escapes or clips it as it must.
 */
import { renderEvidence, type CheckResult, type Evidence, type EvidenceRenderers, type Lang, type TimelineEvent } from "../model/index.js";
import { EVIDENCE_WORDS, NO_OWN_ANSWER, reachRole, reachState } from "./evidence-words.js";
import { WORDS, formatDuration, kindTitle, labelText } from "./i18n.js";

/** The lines of one evidence item. */
export function evidenceLines(e: Evidence, lang: Lang): string[] {
  return renderEvidence(TEXT, e, lang);
}

/** How much of a check's evidence a text format shows inline (the HTML page has the rest). */
export interface EvidenceLimits {
  /** At most this many lines; then one line says how many more there were. */
  maxLines: number;
  /** Each line made one line and cut to this many characters. */
  maxChars: number;
}

/**
 * A check's evidence as the text formats (JUnit, TAP, Markdown, console, Gradescope) show it:
 * every item through its kind's renderer, each line on one line and cut, the list cut with a
 * "… N more" line. Empty when the check has no evidence.
 */
export function checkEvidenceLines(c: CheckResult, lang: Lang, { maxLines, maxChars }: EvidenceLimits): string[] {
  const lines = c.evidence.flatMap((e) => evidenceLines(e, lang)).filter((l) => l.trim() !== "");
  const shown = lines.slice(0, maxLines).map((l) => {
    const one = l.replace(/\s+/g, " ").trim();
    return one.length > maxChars ? `${one.slice(0, maxChars)}…` : one;
  });
  if (lines.length > maxLines) shown.push(`… ${lines.length - maxLines} ${WORDS[lang].more}`);
  return shown;
}

const seconds = (lang: Lang, s: number) => formatDuration(lang, s * 1000);

/** The text renderer of each kind. */
export const TEXT: EvidenceRenderers<string[], Lang> = {
  "http-request": (e, lang) => {
    const w = WORDS[lang];
    if (!e.ok) return [`GET ${e.url} → ${EVIDENCE_WORDS[lang].noAnswer}: ${e.error.class}${e.error.message ? ` (${e.error.message})` : ""}`];
    const who = e.backend ?? (e.label ? labelText(e.label, lang) : undefined);
    return [`GET ${e.url} → ${e.status}${who ? `, ${w.backend.toLowerCase()} ${who}` : ""} (${formatDuration(lang, e.latencyMs)})`];
  },
  sample: (e, lang) => {
    const w = WORDS[lang];
    const counts = Object.entries(e.counts).map(([k, v]) => `${labelText(k, lang)}=${v}`).join(", ");
    const line = `${w.sample} ${labelText(e.name, lang)} (${labelText(e.mode, lang)}): ${e.n} ${w.requests}; ${counts}`;
    if (!e.ratio || Object.keys(e.ratio.expectedShares).length === 0) return [line];
    return [line, `${w.observed} ${shareList(e.ratio.observedShares, lang)}; ${w.expected} ${shareList(e.ratio.expectedShares, lang)}`];
  },
  "cookie-trace": (e, lang) => {
    const w = WORDS[lang];
    return e.rows.map((r) =>
      "error" in r
        ? `${w.client} ${r.client}: ${w.error} ${r.error.class}`
        : `${w.client} ${r.client}: ${r.status} ${r.backend ?? (r.label ? labelText(r.label, lang) : "?")}; ${w.setCookie}: ${r.setCookie.join(" | ") || w.none}`,
    );
  },
  "keep-alive-behaviour": (e, lang) => {
    const x = EVIDENCE_WORDS[lang];
    return [
      `${x.oneConnection}: ${e.n} ${x.answers} (${e.nValid} ${x.fromExpected}); ${x.serversSeen}: ${e.backendsSeen.join(", ") || WORDS[lang].none}; ${e.switches} ${x.switches}: ${x.behaviour[e.behaviour] ?? e.behaviour}`,
    ];
  },
  "own-pages": (e, lang) =>
    e.impostors.map((i) =>
      i.label === NO_OWN_ANSWER
        ? `${i.backend} (${i.address}) ${EVIDENCE_WORDS[lang].noOwnAnswer}`
        : `${i.backend} (${i.address}) ${EVIDENCE_WORDS[lang].servesItself} ${labelText(i.label, lang)}`,
    ),
  "tcp-reach": (e, lang) => e.probes.map((r) => `TCP ${r.address}:${r.port} (${reachRole(r.role, lang)}) → ${reachState(r.state, r.code, lang)} (${formatDuration(lang, r.ms)})`),
  failover: (e, lang) => {
    const w = WORDS[lang];
    const rejoin = e.rejoinMs !== null ? `${w.rejoinedIn} ${formatDuration(lang, e.rejoinMs)}` : e.rejoinMeasured === false ? w.rejoinNotMeasured : w.notRejoined;
    const detect = e.detectMs !== null ? `; ${w.detectedIn} ${formatDuration(lang, e.detectMs)}` : "";
    return [`${e.victim}: ${e.failedRequests} ${w.failedRequests}${detect}; ${rejoin}`, eventLine(e.events, lang)];
  },
  "vrrp-failover": (e, lang) => {
    const w = WORDS[lang];
    const served = e.masterReleased === false ? w.masterKeptVip : e.outageMs !== null ? `${w.servedAgainAfter} ${formatDuration(lang, e.outageMs)}` : w.notServedAgain;
    return [`${e.master} → ${e.backup} (VIP ${e.vip}): ${served}; ${e.failedRequests} ${w.failedRequests}`, eventLine(e.events, lang)];
  },
  restore: (e, lang) => {
    const w = WORDS[lang];
    const lines = [`${w.restore} ${e.host}${e.description ? ` (${e.description[lang]})` : ""}: ${e.restored ? w.restored : w.notRestored}`];
    if (e.leftToDo?.commands.length) lines.push(`${w.leftToDo}: ${e.leftToDo.commands.join("; ")}`);
    return lines;
  },
  "ssh-commands": (e, lang) => e.commands.map((c) => commandLine(c.host, c.command, c.code, lang)),
  "ssh-command": (e, lang) => [commandLine(e.host, e.command, e.code, lang)],
  "ssh-error": (e, lang) => [`${EVIDENCE_WORDS[lang].sshTo} ${e.error.host.name} (${e.error.host.address}): ${e.error.text[lang]}`],
  dependency: (e, lang) => [`${WORDS[lang].dependsOn} ${e.dependsOn} (${WORDS[lang].outcome[e.outcome] ?? e.outcome})`],
  exception: (e, lang) => [`${EVIDENCE_WORDS[lang].grader} (${e.errorKind}): ${e.message}`],
  deadline: (e, lang) => [`${EVIDENCE_WORDS[lang].deadline} (${formatDuration(lang, e.timeoutMs)})${e.doing ? `; ${EVIDENCE_WORDS[lang].wasDoing}: ${e.doing[lang]}` : ""}`],
  budget: (e, lang) => [`${EVIDENCE_WORDS[lang].budget}${e.doing ? `; ${EVIDENCE_WORDS[lang].wasDoing}: ${e.doing[lang]}` : ""}`],
  "default-routes": (e, lang) => {
    const x = EVIDENCE_WORDS[lang];
    const lines = e.seen.length || e.expected !== null
      ? [`${e.expected !== null ? `${x.expectedGateway} ${e.expected}; ` : ""}${e.seen.map((s) => `${s.backend}: ${s.gateway ?? x.noDefaultRoute}${e.expected !== null ? (s.gateway === e.expected ? " ✓" : " ✗") : ""}`).join(", ")}`]
      : [];
    if (e.unreadable) lines.push(`${e.unreadable.backend}: ${x.unreadableRoutes}: ${e.unreadable.output || WORDS[lang].noOutput}`);
    return lines;
  },
  "nat-rules": (e, lang) => {
    const x = EVIDENCE_WORDS[lang];
    if (e.readable === false) return [x.natRulesUnreadable];
    const leaving = e.outInterface !== undefined ? ` (${x.natLeaving} ${e.outInterface})` : "";
    return [
      `${x.natRules}${leaving}: ${e.rules.length ? e.rules.join(" | ") : x.noNatRule}`,
      e.uncovered.length ? `${x.notCovered}: ${e.uncovered.join(", ")}` : x.allCovered,
    ];
  },
  "nat-reach": (e, lang) => {
    const x = EVIDENCE_WORDS[lang];
    if (e.target === "" && e.reason !== undefined) return [`${x.natNoTraffic}: ${e.reason[lang]}`];
    return [
      `${x.natTarget} ${e.target}, ${x.natExpectedFrom} ${e.expectedFrom.join(", ")}:`,
      ...e.reached.map((r) => `${r.backend}: ${arrival(r, lang)}`),
    ];
  },
  processes: (e, lang) => {
    const x = EVIDENCE_WORDS[lang];
    if (e.listed === null) return [`${e.name}: ${x.notListed}${e.unreadable ? ` (${e.unreadable[lang]})` : ""}`];
    const listed = e.listed !== undefined ? ` (${e.listed} ${x.processesListed})` : "";
    if (e.found.length === 0) return [`${e.name}: ${x.notRunning}${listed}`];
    return [`${e.name}: ${x.running} (${e.found.map((p) => `${x.pid} ${p.pid}${p.args ? `: ${p.args}` : ""}`).join("; ")})`];
  },
  sysctl: (e, lang) => [`${e.key} = ${e.value ?? EVIDENCE_WORDS[lang].noValue} (${EVIDENCE_WORDS[lang].exitStatus} ${e.exitCode ?? "?"})`],
  "apache-modules": (e, lang) => {
    const x = EVIDENCE_WORDS[lang];
    return [`Apache (${e.family}${e.os ? `, ${e.os}` : ""}): ${e.listed.length} ${x.modulesLoaded}: ${e.listed.join(", ")}`];
  },
  "ipvs-service": (e, lang) => {
    const x = EVIDENCE_WORDS[lang];
    if (e.ipvsLoaded === false) return [x.ipvsNotLoaded];
    if (e.service === null) return [x.noService];
    const facts = [
      ...(e.persistent !== undefined ? [e.persistent === null ? x.noPersistence : `${x.persistence} ${e.persistent} s`] : []),
      ...(e.tableWeights ? [`${x.tableWeights} ${Object.entries(e.tableWeights).map(([k, v]) => `${k}=${v}`).join(", ")}`] : []),
    ];
    return [`IPVS: ${e.service}${facts.length ? ` (${facts.join("; ")})` : ""}`, ...(e.realServers ?? []).map((s) => `  ${s}`)];
  },
  "kernel-modules": (e, lang) => {
    const x = EVIDENCE_WORDS[lang];
    return [
      `${x.required}: ${e.required.map((m) => `${m} ${e.loaded.includes(m) ? "✓" : `✗ (${x.missing})`}`).join(", ")}`,
      ...(e.notNeeded?.length ? [`${e.notNeeded.join(", ")}: ${x.notNeeded}`] : []),
    ];
  },
  "keepalived-config": (e, lang) => [`keepalived, ${EVIDENCE_WORDS[lang].filesRead}: ${e.files.join(", ")}`],
  "http-get-digests": (e, lang) => {
    const x = EVIDENCE_WORDS[lang];
    return e.realServers.map(
      (s) =>
        `${s.backend} (${s.address}): ${x.digestConfigured} ${s.configured ?? "-"}, ${x.digestComputed} ${s.computed ?? "-"}${s.genhash ? `, ${x.digestGenhash} ${s.genhash}` : ""}: ${s.ok ? x.matches : x.differs}`,
    );
  },
  "http-get-wrong-page": (e, lang) => {
    const x = EVIDENCE_WORDS[lang];
    if (!e.ran) return [`${x.wrongPageNotRun}: ${e.reason[lang]}`];
    const left = e.left && e.leftAfterSeconds !== undefined ? `${x.leftTableAfter} ${seconds(lang, e.leftAfterSeconds)}` : `${x.notLeftTable} ${seconds(lang, e.watchedSeconds)}`;
    const back = e.back === undefined ? "" : e.back && e.backAfterSeconds !== undefined ? `; ${x.backAfter} ${seconds(lang, e.backAfterSeconds)}` : `; ${x.notBack} ${seconds(lang, e.bounds.returnWaitSeconds)}`;
    return [`${e.victim}, ${x.wrongPage} ${e.file}: ${left} (${x.bound} ${seconds(lang, e.bounds.removalWaitSeconds)})${back}`];
  },
  "persistence-template": (e, lang) => {
    const x = EVIDENCE_WORDS[lang];
    if (e.template === null) return [`${x.noTemplate}${e.client ? ` (${e.client})` : ""}`];
    return [`${x.template} (${x.graderClient} ${e.client ?? "?"}): ${e.template}${e.remainingSeconds !== null ? `, ${e.remainingSeconds} s ${x.left}` : ""}`];
  },
  "persistence-long": (e, lang) => {
    const x = EVIDENCE_WORDS[lang];
    const lines = [`${x.expectedPersistence} ${e.expectedSeconds} s; ${x.tablePersistence}: ${e.tablePersistent === null ? x.noPersistence : `${e.tablePersistent} s`}`];
    if (e.holdProbe) lines.push(`${e.holdProbe.address}: ${x.held} ${seconds(lang, e.holdProbe.idleSeconds)} ${x.idle}: ${e.holdProbe.server ?? "-"}`);
    if (e.idleClient) {
      lines.push(
        `${x.idleClient} ${e.idleClient.address}: ${e.idleClient.goneAfterSeconds !== null ? `${x.goneAfter} ${seconds(lang, e.idleClient.goneAfterSeconds)}` : x.stillThere}`,
      );
    }
    return lines;
  },
  legacy: (e, lang) => [
    `${kindTitle(e.originalKind, lang) ?? e.originalKind} (${EVIDENCE_WORDS[lang].oldResult}): ${Object.entries(e.fields)
      .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
      .join(", ")}`,
  ],
};

function commandLine(host: string, command: string, code: number | null, lang: Lang): string {
  return `${host}$ ${command} → ${WORDS[lang].exitCode} ${code === null ? "-" : code}`;
}

function eventLine(events: TimelineEvent[], lang: Lang): string {
  return events.map((x) => `${formatDuration(lang, x.t)} ${labelText(x.what, lang)}`).join(", ");
}

function arrival(r: { from: string | null; natted: boolean | null }, lang: Lang): string {
  const x = EVIDENCE_WORDS[lang];
  if (r.from === null) return r.natted === null ? x.unknownArrival : x.notArrived;
  return `${x.arrivedFrom} ${r.from} (${r.natted ? x.natted : x.notNatted})`;
}

function shareList(shares: Record<string, number>, lang: Lang): string {
  return Object.entries(shares)
    .map(([k, v]) => `${labelText(k, lang)} ${(v * 100).toFixed(1)}%`)
    .join(", ");
}
