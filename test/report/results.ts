import type { CheckResult, Evidence, RunResult, Text, TimelineMark, RatioEvidence } from "../../src/model/index.js";

/** The password a lab spec carried: reporters must never write it. */
export const SECRET = "s3cr3t-Pa55word!";
export const HOSTILE_PAGE = "<script>alert(1)</script><img src=x onerror=alert(2)>";
export const HOSTILE_MESSAGE = `"><svg onload=alert(3)>`;

export const redact = (t: string) => t.split(SECRET).join("***");

const t = (es: string, en: string): Text => ({ es, en });

function check(partial: Partial<CheckResult> & Pick<CheckResult, "id" | "part" | "outcome" | "points" | "maxPoints">): CheckResult {
  return {
    title: t(`Comprobación ${partial.id}`, `Check ${partial.id}`),
    message: t("Correcto.", "Right."),
    evidence: [],
    startedAt: "2025-03-10T10:00:00.000Z",
    durationMs: 1234,
    ...partial,
  };
}

const cycle = (n: number) => Array.from({ length: n }, (_, i) => (i % 4 === 3 ? "webserver2" : "webserver1"));

function sample(sequence: string[], expected: Record<string, number>): Evidence {
  const counts: Record<string, number> = {};
  for (const l of sequence) counts[l] = (counts[l] ?? 0) + 1;
  const valid = sequence.filter((l) => !l.startsWith("error:")).length;
  const observedShares = Object.fromEntries(Object.keys(expected).map((k) => [k, (counts[k] ?? 0) / Math.max(1, valid)]));
  return {
    kind: "sample",
    name: "keep-alive",
    mode: "keep-alive",
    n: sequence.length,
    counts,
    connections: 1,
    sequence,
    errors: [],
    stoppedBy: "decided",
    ratio: {
      method: "sprt",
      outcome: "pass",
      reason: "accepted",
      n: sequence.length,
      nValid: valid,
      nOther: sequence.length - valid,
      counts,
      otherCounts: {},
      observedShares,
      expectedShares: expected,
      expectedRatio: "3:1",
      observedRatio: "3:1",
      alpha: 0.001,
      beta: 0.001,
      ci: {
        level: 0.95,
        method: "wilson",
        shares: Object.fromEntries(Object.entries(observedShares).map(([k, p]) => [k, [Math.max(0, p - 0.08), Math.min(1, p + 0.08)]])),
      },
      maxSamples: 400,
      explanation: t("Proporción 3:1 observada.", "3:1 ratio observed."),
    } as RatioEvidence, // a whole RatioVerdict of src/stats: more than reporters read
  };
}

function failoverEvidence(broken: boolean): Evidence {
  const timeline: TimelineMark[] = [];
  for (let i = 0; i < 60; i++) {
    const tMs = i * 100;
    const down = tMs >= 2000 && tMs < 4000;
    const label = broken && down && i % 3 === 0 ? "error:http-502" : down ? "webserver2" : i % 2 ? "webserver1" : "webserver2";
    timeline.push({ t: tMs, client: i % 2 ? "sticky" : "cookieless", label, status: label.startsWith("error") ? 502 : 200, route: label === "webserver2" ? "wsrv2" : "wsrv1" });
  }
  return {
    kind: "failover",
    victim: "webserver1",
    survivors: ["webserver2"],
    detectMs: 120,
    failedRequests: broken ? 7 : 0,
    rejoined: !broken,
    rejoinMs: broken ? null : 1800,
    stoppedBy: "ssh",
    events: [
      { t: 2000, what: "stop" },
      { t: 2050, what: "stopped" },
      { t: 4000, what: "started (verified)" },
    ],
    timeline,
  };
}

/**
 * proxy.sticky's evidence as checks/proxy/sticky.ts writes it: a cookieless sample, the sample of
 * a client keeping its cookie with its trace (request by request: cookie sent, label, Set-Cookie
 * received), and a forged cookie for the other route. `setCookie` is what the balancer sent first.
 */
export function stickyEvidence(setCookie = "ROUTEID=.wsrv1; path=/"): Evidence[] {
  const withCookie = Array.from({ length: 6 }, () => "webserver1");
  const trace = withCookie.map((label, i) => ({ seq: i + 1, label, sent: i === 0 ? null : "ROUTEID=.wsrv1", set: i === 0 ? [setCookie] : [] }));
  const plain = (name: string, sequence: string[], extra: Partial<Extract<Evidence, { kind: "sample" }>> = {}): Evidence => {
    const counts: Record<string, number> = {};
    for (const l of sequence) counts[l] = (counts[l] ?? 0) + 1;
    return { kind: "sample", name, mode: "keep-alive", n: sequence.length, counts, connections: 1, sequence, errors: [], ...extra };
  };
  return [
    plain("cookieless", ["webserver1", "webserver2", "webserver1", "webserver2"]),
    plain("with-cookie", withCookie, { cookie: "ROUTEID=.wsrv1", trace }),
    plain("forged .wsrv2", ["webserver2", "webserver2", "webserver2"], { forged: "ROUTEID=.wsrv2" }),
  ];
}

/** lvs.vrrp-failover's evidence as checks/lvs/vrrp-failover.ts writes it. */
export function vrrpEvidence(served: boolean): Evidence {
  const timeline = Array.from({ length: 50 }, (_, i) => {
    const t = i * 100;
    const down = t >= 1000 && t < (served ? 4800 : 5000);
    const label = down ? "error:timeout" : i % 2 ? "webserver1" : "webserver2";
    return { t, client: "grader", label, ...(down ? { error: "timeout" } : { status: 200 }) };
  });
  return {
    kind: "vrrp-failover",
    master: "10.0.0.2",
    backup: "10.0.0.3",
    vip: "10.0.0.10",
    masterReleased: true,
    outageMs: served ? 3800 : null,
    failedRequests: served ? 38 : 40,
    events: [
      { t: 1000, what: "stop keepalived on the MASTER" },
      { t: 1200, what: "stopped" },
      { t: 1500, what: "MASTER released the VIP" },
      { t: 4900, what: "restoring" },
      { t: 5600, what: "started (verified)" },
    ],
    timeline,
  };
}

/** A failover a person carried out (--interactive): the events src/runner/failover.ts writes then. */
export function guidedFailoverEvidence(): Evidence {
  const base = failoverEvidence(false) as Extract<Evidence, { kind: "failover" }>;
  return {
    ...base,
    stoppedBy: "person",
    events: [
      { t: 1900, what: "asked to stop" },
      { t: 2400, what: "stop confirmed" },
      { t: 4000, what: "asked to start" },
      { t: 4300, what: "start confirmed" },
      { t: 4800, what: "rejoined" },
    ],
  };
}

const sshCommands: Evidence = {
  kind: "ssh-commands",
  commands: [
    { host: "webserver1", command: "systemctl stop apache2", code: 0, stdout: "", stderr: "", durationMs: 310 },
    { host: "webserver1", command: `curl -s http://127.0.0.1/ # token ${SECRET}`, code: 0, stdout: HOSTILE_PAGE, stderr: "", durationMs: 40 },
  ],
};

function base(student: string, checks: CheckResult[]): RunResult {
  const counts = { pass: 0, fail: 0, inconclusive: 0, error: 0, skipped: 0 };
  for (const c of checks) counts[c.outcome]++;
  return {
    schemaVersion: 1,
    tool: { name: "hagrade", version: "0.1.0" },
    lab: "practica-ha",
    student: { id: "u123", name: student },
    part: "proxy",
    partSource: "detected",
    lang: "es",
    startedAt: "2025-03-10T10:00:00.000Z",
    durationMs: 93_500,
    score: checks.reduce((s, c) => s + c.points, 0),
    maxScore: checks.reduce((s, c) => s + c.maxPoints, 0),
    counts,
    traffic: { httpRequests: 512, sshCommands: 6 },
    notes: [t("Parte 2 deducida del tráfico (cookie ROUTEID).", "Part 2 detected from the traffic (ROUTEID cookie).")],
    checks,
  };
}

export function passingLab(): RunResult {
  return base("Ana García", [
    check({
      id: "net.vip-http",
      part: "net",
      outcome: "pass",
      points: 1,
      maxPoints: 1,
      evidence: [{ kind: "http-request", url: "http://10.0.0.10/", ok: true, status: 200, backend: "webserver1", label: "webserver1", headers: { server: "Apache" }, setCookie: [], bodyExcerpt: "<h1>webserver1</h1>", latencyMs: 3, attempts: 1 }],
    }),
    check({ id: "proxy.loadfactor", part: "proxy", outcome: "pass", points: 2, maxPoints: 2, evidence: [sample(cycle(40), { webserver1: 0.75, webserver2: 0.25 })] }),
    check({
      id: "proxy.routeid-cookie",
      part: "proxy",
      outcome: "pass",
      points: 1,
      maxPoints: 1,
      evidence: [
        {
          kind: "cookie-trace",
          rows: [
            { client: 1, status: 200, backend: "webserver1", label: "webserver1", setCookie: ["ROUTEID=.wsrv1; path=/"], cookie: { raw: "ROUTEID=.wsrv1; path=/", name: "ROUTEID", value: ".wsrv1", route: "wsrv1", path: "/" } },
            { client: 2, status: 200, backend: "webserver2", label: "webserver2", setCookie: ["ROUTEID=.wsrv2; path=/"], cookie: { raw: "ROUTEID=.wsrv2; path=/", name: "ROUTEID", value: ".wsrv2", route: "wsrv2", path: "/" } },
          ],
        },
      ],
    }),
    check({ id: "proxy.sticky", part: "proxy", outcome: "pass", points: 2, maxPoints: 2, evidence: stickyEvidence() }),
    check({ id: "proxy.failover", part: "proxy", outcome: "pass", points: 2, maxPoints: 2, evidence: [failoverEvidence(false), sshCommands] }),
  ]);
}

/** Part 1 with two directors: a VRRP failover that served again, and a guided web server failover. */
export function vrrpLab(served = true): RunResult {
  const result = base("Ana García", [
    check({
      id: "lvs.vrrp-failover",
      part: "lvs",
      outcome: served ? "pass" : "fail",
      points: served ? 2 : 0,
      maxPoints: 2,
      ...(served ? {} : { fix: t("Arranque keepalived en el BACKUP.", "Start keepalived on the BACKUP.") }),
      evidence: [vrrpEvidence(served), { kind: "restore", host: "balancer", status: "verified", restored: true }],
    }),
    check({ id: "lvs.failover", part: "lvs", outcome: "pass", points: 2, maxPoints: 2, evidence: [guidedFailoverEvidence()] }),
  ]);
  return { ...result, part: "lvs", partSource: "spec", notes: [] };
}

export function brokenLab(): RunResult {
  return base(`Luis <b>Pérez</b> & "Co"`, [
    check({
      id: "net.vip-http",
      part: "net",
      outcome: "fail",
      points: 0,
      maxPoints: 1,
      message: t(`La VIP devolvió una página inesperada: ${HOSTILE_PAGE}`, `The VIP returned an unexpected page: ${HOSTILE_PAGE}`),
      fix: t(`Revise el VirtualHost ${HOSTILE_MESSAGE} (clave ${SECRET}).`, `Check the VirtualHost ${HOSTILE_MESSAGE} (key ${SECRET}).`),
      evidence: [{ kind: "http-request", url: "http://10.0.0.10/", ok: true, status: 200, backend: null, label: "unknown:1", headers: { "x-evil": HOSTILE_MESSAGE }, setCookie: [], bodyExcerpt: HOSTILE_PAGE, latencyMs: 3, attempts: 1 }],
    }),
    check({
      id: "proxy.loadfactor",
      part: "proxy",
      outcome: "inconclusive",
      points: 0,
      maxPoints: 2,
      message: t("No se pudo decidir con 40 peticiones.", "Could not decide with 40 requests."),
      fix: t("Aumente sampling.maxRequests.", "Raise sampling.maxRequests."),
      evidence: [sample([...cycle(30), "error:http-502", "error:timeout", ...cycle(8)], { webserver1: 0.75, webserver2: 0.25 })],
    }),
    check({
      id: "proxy.routeid-cookie",
      part: "proxy",
      outcome: "skipped",
      points: 0,
      maxPoints: 1,
      message: t("Omitida: depende de net.vip-http, que falló.", "Skipped: depends on net.vip-http, which failed."),
      evidence: [{ kind: "dependency", dependsOn: "net.vip-http", outcome: "fail" }],
    }),
    check({
      id: "proxy.failover",
      part: "proxy",
      outcome: "fail",
      points: 0,
      maxPoints: 2,
      message: t("Al parar webserver1, la VIP falló 7 de 20 peticiones.", "With webserver1 stopped, the VIP failed 7 of 20 requests."),
      fix: t("Compruebe que webserver2 está en el balanceador.", "Check that webserver2 is in the balancer."),
      evidence: [failoverEvidence(true), sshCommands],
    }),
    check({ id: "proxy.sticky", part: "proxy", outcome: "pass", points: 2, maxPoints: 2, evidence: stickyEvidence(`ROUTEID=.wsrv1; path=/; x=${HOSTILE_PAGE}`) }),
    check({
      id: "proxy.modules",
      part: "proxy",
      outcome: "error",
      points: 0,
      maxPoints: 1,
      message: t("No se pudo entrar por SSH en balancer.", "Could not log in to balancer over SSH."),
      fix: t("Revise la clave SSH.", "Check the SSH key."),
      // Evidence an older hagrade wrote in a shape no kind of today has (upgradeEvidence makes it legacy).
      evidence: [{ kind: "legacy", originalKind: "exotic-future-kind", fields: { detail: HOSTILE_PAGE, nested: { password: SECRET } } }],
    }),
  ]);
}
