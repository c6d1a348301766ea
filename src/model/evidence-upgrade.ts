/**
 * Results saved before typed evidence (evidence version 1) keep rendering: their evidence is
 * read into today's kinds. Every item is checked against its kind's shape, so reporters only
 * ever meet evidence of the types in evidence.ts; an item that fits none becomes `legacy`
 * (its fields shown as a table). Safe to run on evidence of any version.
 */
import { ev, EVIDENCE_VERSION, type CookieTraceRow, type EvidenceKind, type KnownEvidence } from "./evidence.js";
import type { RunResult } from "./result.js";

type Rec = Record<string, unknown>;

const isRec = (v: unknown): v is Rec => typeof v === "object" && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === "string";
const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isBool = (v: unknown): v is boolean => typeof v === "boolean";
const isText = (v: unknown): boolean => isRec(v) && isStr(v.es) && isStr(v.en);
const nullOr = (test: (v: unknown) => boolean) => (v: unknown) => v === null || test(v);
const optional = (test: (v: unknown) => boolean) => (v: unknown) => v === undefined || test(v);
const arrayOf = (test: (v: unknown) => boolean) => (v: unknown) => Array.isArray(v) && v.every(test);
const recordOf = (test: (v: unknown) => boolean) => (v: unknown) => isRec(v) && Object.values(v).every(test);
/** An object whose named fields pass their tests (other fields are let through). */
const shape = (fields: Record<string, (v: unknown) => boolean>) => (v: unknown) =>
  isRec(v) && Object.entries(fields).every(([key, test]) => test(v[key]));

const failure = shape({ class: isStr, message: isStr });
const mark = shape({ t: isNum, client: isStr, label: isStr, status: optional(isNum), error: optional(isStr), route: optional(nullOr(isStr)) });
const event = shape({ t: isNum, what: isStr });
const commandRun = shape({ host: isStr, command: isStr, code: nullOr(isNum), stdout: isStr, stderr: isStr, durationMs: optional(isNum) });
const restoreCommand = shape({ command: isStr, code: nullOr(isNum) });
const routeCookie = shape({ raw: isStr, name: isStr, value: isStr, route: nullOr(isStr) });
const sshFailure = (v: unknown): boolean =>
  shape({ kind: isStr, host: shape({ name: isStr, address: isStr }), message: isStr, text: isText, fix: isText })(v) &&
  optional(sshFailure)((v as Rec).cause);
const reading = shape({ address: isStr, idleSeconds: isNum, present: isBool, remainingSeconds: optional(isNum), destination: optional(isStr) });
const ratio = shape({
  outcome: isStr,
  observedShares: recordOf(isNum),
  expectedShares: recordOf(isNum),
  expectedRatio: isStr,
  observedRatio: isStr,
  ci: shape({ level: isNum, shares: recordOf(arrayOf(isNum)) }),
  explanation: isText,
});
const cookieRow = (v: unknown) =>
  shape({ client: isNum, error: failure })(v) ||
  shape({ client: isNum, status: isNum, backend: nullOr(isStr), label: nullOr(isStr), setCookie: arrayOf(isStr), cookie: nullOr(routeCookie) })(v);

/** The shape of each kind: what its renderers read. A new kind needs its line here too. */
const SHAPES: { [K in EvidenceKind]: (v: Rec) => boolean } = {
  "http-request": (v) =>
    shape({ url: isStr, attempts: isNum, latencyMs: isNum })(v) &&
    (v.ok === true
      ? shape({ status: isNum, backend: nullOr(isStr), label: nullOr(isStr), headers: recordOf(isStr), setCookie: arrayOf(isStr), bodyExcerpt: isStr })(v)
      : v.ok === false && failure(v.error)),
  sample: shape({
    name: isStr,
    mode: isStr,
    n: isNum,
    counts: recordOf(isNum),
    connections: isNum,
    sequence: arrayOf(isStr),
    errors: arrayOf(shape({ seq: isNum, class: isStr, message: isStr })),
    ratio: optional(ratio),
    stoppedBy: optional(isStr),
    localAddress: optional(isStr),
    clientAddresses: optional(arrayOf(isStr)),
    cookie: optional(nullOr(isStr)),
    trace: optional(arrayOf(shape({ seq: isNum, label: isStr, sent: nullOr(isStr), set: arrayOf(isStr) }))),
    forged: optional(isStr),
  }),
  "cookie-trace": shape({ rows: arrayOf(cookieRow) }),
  "keep-alive-behaviour": shape({ connections: isNum, behaviour: isStr, n: isNum, nValid: isNum, backendsSeen: arrayOf(isStr), switches: isNum, pinnedAfter: isNum }),
  "own-pages": shape({ impostors: arrayOf(shape({ backend: isStr, address: isStr, label: isStr })) }),
  "tcp-reach": shape({ probes: arrayOf(shape({ role: isStr, address: isStr, port: isNum, state: isStr, ms: isNum, code: optional(isStr) })) }),
  failover: shape({
    victim: isStr,
    survivors: arrayOf(isStr),
    detectMs: nullOr(isNum),
    failedRequests: isNum,
    lastFailureMs: optional(nullOr(isNum)),
    leftTable: optional(nullOr(isBool)),
    rejoinMeasured: optional(isBool),
    rejoined: isBool,
    rejoinMs: nullOr(isNum),
    balancerRetryUntil: optional(isStr),
    stoppedBy: (v) => v === "person" || v === "ssh",
    events: arrayOf(event),
    timeline: arrayOf(mark),
  }),
  "vrrp-failover": shape({
    master: isStr,
    backup: isStr,
    vip: isStr,
    masterReleased: nullOr(isBool),
    outageMs: nullOr(isNum),
    failedRequests: isNum,
    events: arrayOf(event),
    timeline: arrayOf(mark),
  }),
  restore: shape({
    host: isStr,
    status: isStr,
    restored: isBool,
    description: optional(isText),
    change: optional(restoreCommand),
    undo: optional(arrayOf(restoreCommand)),
    verify: optional(arrayOf(restoreCommand)),
    leftToDo: optional(shape({ commands: arrayOf(isStr) })),
  }),
  "ssh-commands": shape({ commands: arrayOf(commandRun) }),
  "ssh-command": commandRun,
  "ssh-error": shape({ error: sshFailure }),
  dependency: shape({ dependsOn: isStr, outcome: isStr }),
  exception: shape({ errorKind: isStr, message: isStr }),
  deadline: shape({ timeoutMs: isNum, doing: optional(isText) }),
  budget: shape({ doing: optional(isText) }),
  "default-routes": shape({
    expected: nullOr(isStr),
    seen: arrayOf(shape({ backend: isStr, gateway: nullOr(isStr) })),
    unreadable: optional(shape({ backend: isStr, output: isStr })),
  }),
  "nat-rules": shape({ rules: arrayOf(isStr), uncovered: arrayOf(isStr) }),
  "nat-reach": shape({ target: isStr, expectedFrom: arrayOf(isStr), reached: arrayOf(shape({ backend: isStr, from: nullOr(isStr), natted: nullOr(isBool) })) }),
  processes: shape({ name: isStr, found: arrayOf(shape({ pid: isNum, args: optional(isStr) })), listed: optional(nullOr(isNum)), unreadable: optional(isText) }),
  sysctl: shape({ key: isStr, value: nullOr(isStr), exitCode: nullOr(isNum) }),
  "apache-modules": shape({ family: isStr, os: nullOr(isStr), listed: arrayOf(isStr) }),
  "ipvs-service": shape({
    service: nullOr(isStr),
    realServers: optional(arrayOf(isStr)),
    ipvsLoaded: optional(isBool),
    persistent: optional(nullOr(isNum)),
    tableWeights: optional(nullOr(recordOf(isNum))),
  }),
  "kernel-modules": shape({ required: arrayOf(isStr), loaded: arrayOf(isStr), requiredFrom: optional(isStr), notNeeded: optional(arrayOf(isStr)) }),
  "keepalived-config": shape({ files: arrayOf(isStr) }),
  "http-get-digests": shape({
    realServers: arrayOf(
      shape({
        backend: isStr,
        address: isStr,
        ok: isBool,
        problem: optional(isText),
        fix: optional(isText),
        configured: optional(isStr),
        computed: optional(isStr),
        genhash: optional(isStr),
      }),
    ),
  }),
  "http-get-wrong-page": (v) =>
    v.ran === false
      ? isText(v.reason)
      : v.ran === true &&
        shape({
          victim: isStr,
          file: isStr,
          urlPath: isStr,
          bounds: shape({ delayLoop: isNum, connectTimeout: isNum, retry: isNum, delayBeforeRetry: isNum, removalWaitSeconds: isNum, returnWaitSeconds: isNum, formula: isText }),
          left: isBool,
          leftAfterSeconds: optional(isNum),
          watchedSeconds: isNum,
          back: optional(isBool),
          backAfterSeconds: optional(isNum),
          failure: optional(shape({ kind: isStr, text: isText })),
        })(v),
  "persistence-template": shape({ client: nullOr(isStr), template: nullOr(isStr), remainingSeconds: nullOr(isNum) }),
  "persistence-long": shape({
    expectedSeconds: isNum,
    tablePersistent: nullOr(isNum),
    clients: optional(arrayOf(shape({ address: isStr, server: nullOr(isStr) }))),
    atBind: optional(arrayOf(reading)),
    idleReadings: optional(arrayOf(reading)),
    holdProbe: optional(shape({ address: isStr, idleSeconds: isNum, server: nullOr(isStr), template: nullOr(reading) })),
    idleClient: optional(shape({ address: isStr, goneAfterSeconds: nullOr(isNum), lastSeenSeconds: nullOr(isNum), extraSeconds: nullOr(isNum) })),
  }),
  legacy: shape({ originalKind: isStr, fields: isRec }),
};

function isKnownKind(kind: string): kind is EvidenceKind {
  return Object.hasOwn(SHAPES, kind);
}

/** Whether `value` is evidence of a kind of today, in its kind's shape. */
export function isKnownEvidence(value: unknown): value is KnownEvidence {
  return isRec(value) && isStr(value.kind) && isKnownKind(value.kind) && SHAPES[value.kind](value);
}

const BODY_EXCERPT_CHARS = 600;

/** Version 1 shapes that version 2 writes differently, one item at a time (cookie-trace rows apart). */
function fromVersion1(item: Rec): Rec {
  const { kind } = item;
  // net.vip-http kept the whole fetch result.
  if (kind === "http-request" && isRec(item.result) && item.ok === undefined) {
    const r = item.result;
    const common = { url: item.url, attempts: r.attempts, latencyMs: r.latencyMs };
    if (r.ok === true) {
      return {
        kind,
        ...common,
        ok: true,
        status: r.status,
        backend: r.backend ?? null,
        label: r.label ?? null,
        headers: r.headers ?? {},
        setCookie: r.setCookie ?? [],
        bodyExcerpt: isStr(r.body) ? r.body.slice(0, BODY_EXCERPT_CHARS) : "",
      };
    }
    return { kind, ...common, ok: false, error: r.error, ...(isNum(r.status) ? { status: r.status } : {}) };
  }
  if (kind === "processes" && Array.isArray(item.pids) && item.found === undefined) {
    return { kind, name: item.name, found: item.pids.map((pid) => ({ pid })) };
  }
  if (kind === "default-routes" && isStr(item.backend) && isStr(item.output)) {
    return { kind, expected: null, seen: [], unreadable: { backend: item.backend, output: item.output } };
  }
  // The balancer's unreachable-SSH skip spread the error over the evidence: its kind was the error's.
  if (isStr(kind) && !isKnownKind(kind) && sshFailure(item)) return { kind: "ssh-error", error: item };
  return item;
}

/** A version 1 cookie-trace item is one client's row. */
function isCookieRowItem(item: unknown): item is Rec {
  return isRec(item) && item.kind === "cookie-trace" && item.rows === undefined && isNum(item.client);
}

function cookieRowOf(item: Rec): CookieTraceRow | undefined {
  const { kind: _kind, ...row } = item;
  if (isRec(row.error)) row.error = { class: String(row.error.class ?? "error"), message: String(row.error.message ?? "") };
  return cookieRow(row) ? (row as CookieTraceRow) : undefined;
}

function legacy(item: unknown): KnownEvidence {
  if (!isRec(item)) return ev.legacy({ originalKind: "?", fields: { value: item } });
  const { kind, ...fields } = item;
  return ev.legacy({ originalKind: isStr(kind) ? kind : "?", fields });
}

/** A check's evidence as today's kinds, whatever version wrote it. */
export function upgradeEvidence(items: unknown): KnownEvidence[] {
  if (!Array.isArray(items)) return [];
  const out: KnownEvidence[] = [];
  for (let i = 0; i < items.length; i++) {
    const item: unknown = items[i];
    if (isCookieRowItem(item)) {
      const rows: CookieTraceRow[] = [];
      for (; i < items.length && isCookieRowItem(items[i]); i++) {
        const row = cookieRowOf(items[i] as Rec);
        if (row) rows.push(row);
        else out.push(legacy(items[i]));
      }
      i--;
      if (rows.length) out.push(ev.cookieTrace({ rows }));
      continue;
    }
    const upgraded = isRec(item) ? fromVersion1(item) : item;
    out.push(isKnownEvidence(upgraded) ? upgraded : legacy(item));
  }
  return out;
}

/** A saved result with its evidence as today's kinds (`hagrade report`, `regrade`, batch). */
export function upgradeRunResult<R extends RunResult>(result: R): R {
  return {
    ...result,
    evidenceVersion: EVIDENCE_VERSION,
    checks: result.checks.map((c) => ({ ...c, evidence: upgradeEvidence(c.evidence) })),
  };
}
