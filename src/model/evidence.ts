/**
 * What a check shows for its verdict: one type per kind of evidence, each made by its one
 * constructor in `ev` (checks never write an evidence object by hand), each drawn by one
 * renderer per reporter (src/report/evidence-*.ts, checked for exhaustiveness by the compiler).
 *
 * Evidence is plain JSON so a result can be saved, re-rendered and re-graded later. Results
 * written before these types (evidence version 1) are upgraded on read (evidence-upgrade.ts).
 */
import type { Outcome } from "./result.js";
import type { Text } from "./text.js";

/** The version of the evidence types a result was written with (RunResult.evidenceVersion). */
export const EVIDENCE_VERSION = 2 as const;

// ---- HTTP -------------------------------------------------------------------------------

/** Why a request got no HTTP answer (the probe's error class: connect-refused, headers-timeout, ...). */
export type RequestFailure = {
  class: string;
  message: string;
};

/** One request to the VIP and its answer (or why none came). */
export type HttpRequestEvidence = {
  kind: "http-request";
  url: string;
  attempts: number;
  latencyMs: number;
} & (
  | {
      ok: true;
      status: number;
      /** The web server the page names, when it names one. */
      backend: string | null;
      label: string | null;
      headers: Record<string, string>;
      setCookie: string[];
      bodyExcerpt: string;
    }
  | { ok: false; error: RequestFailure; status?: number }
);

/** The statistics' verdict on the shares of a sample (src/stats RatioVerdict; what reporters read). */
export type RatioEvidence = {
  outcome: string;
  observedShares: Record<string, number>;
  expectedShares: Record<string, number>;
  expectedRatio: string;
  observedRatio: string;
  /** Wilson interval per share. */
  ci: { level: number; shares: Record<string, [number, number]> };
  explanation: Text;
};

/** A sticky client's request: the cookie it sent, who answered, the Set-Cookie it was given. */
export type CookieStep = {
  seq: number;
  label: string;
  sent: string | null;
  set: string[];
};

/** A route cookie as the balancer set it. */
export type RouteCookieSeen = {
  raw: string;
  name: string;
  value: string;
  route: string | null;
  path: string | null;
};

/** A run of requests: who answered each, in order (reporters draw it as coloured blocks). */
export type SampleEvidence = {
  kind: "sample";
  /** What the sample is for ("cookieless", "from 10.0.0.3", ...: a label reporters translate). */
  name: string;
  /** "keep-alive" or "new-connection". */
  mode: string;
  n: number;
  counts: Record<string, number>;
  connections: number;
  /** The label of each answer, in order (a backend's name, unknown:…, unidentified, error:…). */
  sequence: string[];
  /** The first errors, with the request they ended. */
  errors: ({ seq: number } & RequestFailure)[];
  ratio?: RatioEvidence;
  /** Why the sample stopped (decided, max-requests, ...). */
  stoppedBy?: string;
  localAddress?: string;
  clientAddresses?: string[];
  /** The cookie the sticky client carried ("ROUTEID=.wsrv1"). */
  cookie?: string | null;
  trace?: CookieStep[];
  /** The forged cookie sent ("ROUTEID=.wsrv2"). */
  forged?: string;
};

/** Fresh clients, one request each: the route cookie each was given. */
export type CookieTraceEvidence = {
  kind: "cookie-trace";
  rows: CookieTraceRow[];
};

export type CookieTraceRow =
  | { client: number; status: number; backend: string | null; label: string | null; setCookie: string[]; cookie: RouteCookieSeen | null }
  | { client: number; error: RequestFailure };

/** The answers of one keep-alive connection: per request, or pinned to one server. */
export type KeepAliveBehaviourEvidence = {
  kind: "keep-alive-behaviour";
  connections: number;
  behaviour: "changes-per-request" | "pinned" | "undecided";
  n: number;
  nValid: number;
  backendsSeen: string[];
  switches: number;
  pinnedAfter: number;
};

/** Pages the VIP showed that their own server does not serve. */
export type OwnPagesEvidence = {
  kind: "own-pages";
  impostors: { backend: string; address: string; label: string }[];
};

/** One TCP connection attempt to an address of the lab (src/probe tcpReach). */
export type ReachProbeSeen = {
  /** What the address is: "vip", "balancer-ssh", "balancer-service", "backup-service" (a label reporters translate). */
  role: string;
  address: string;
  port: number;
  /** connected, refused, timeout, unreachable or failed. */
  state: string;
  ms: number;
  /** The socket error's code (EHOSTUNREACH, ...). */
  code?: string;
};

/** Which addresses of the lab answer a TCP connection: what tells a dead VIP from a dead route. */
export type TcpReachEvidence = {
  kind: "tcp-reach";
  probes: ReachProbeSeen[];
};

// ---- Failover ---------------------------------------------------------------------------

/** One request of a failover watch: ms since the watch began, who asked, who answered. */
export type TimelineMark = {
  t: number;
  client: string;
  label: string;
  status?: number;
  error?: string;
  route?: string | null;
};

/** A moment of a failover (stop, stopped, restoring, ...: labels reporters translate). */
export type TimelineEvent = {
  t: number;
  what: string;
};

/** A web server stopped and started while clients kept asking the VIP. */
export type FailoverEvidence = {
  kind: "failover";
  victim: string;
  survivors: string[];
  detectMs: number | null;
  failedRequests: number;
  lastFailureMs?: number | null;
  leftTable?: boolean | null;
  /** False when the balancer's return (Apache's retry) was not waited for (only --long measures it); absent in older results. */
  rejoinMeasured?: boolean;
  rejoined: boolean;
  rejoinMs: number | null;
  /** When the balancer sends the stopped member traffic again at the latest (ISO time), when not measured. */
  balancerRetryUntil?: string;
  stoppedBy: "person" | "ssh";
  events: TimelineEvent[];
  timeline: TimelineMark[];
};

/** keepalived stopped on the VRRP MASTER: how long until the BACKUP served the VIP. */
export type VrrpFailoverEvidence = {
  kind: "vrrp-failover";
  master: string;
  backup: string;
  vip: string;
  masterReleased: boolean | null;
  outageMs: number | null;
  failedRequests: number;
  events: TimelineEvent[];
  timeline: TimelineMark[];
};

/** A command of a restore (what changed the lab, undid or verified it). */
export type RestoreCommand = {
  command: string;
  code: number | null;
  durationMs: number;
  stderr?: string;
  error?: string;
};

/** How a change to the lab was undone (src/ssh RestoreReport). */
export type RestoreEvidence = {
  kind: "restore";
  host: string;
  address?: string;
  description?: Text;
  status: string;
  restored: boolean;
  change?: RestoreCommand;
  undo?: RestoreCommand[];
  verify?: RestoreCommand[];
  /** What a person must still run when the grader could not restore it. */
  leftToDo?: { commands: string[]; text?: Text };
  journalFile?: string;
};

// ---- SSH --------------------------------------------------------------------------------

/** A command a check ran on a lab machine, output trimmed. */
export type SshCommandRun = {
  host: string;
  command: string;
  code: number | null;
  durationMs: number;
  stdout: string;
  stderr: string;
};

/** Every command a check ran over SSH (the runner attaches them). */
export type SshCommandsEvidence = {
  kind: "ssh-commands";
  commands: SshCommandRun[];
};

/** One command's full record (src/ssh CommandRecord). */
export type SshCommandEvidence = SshCommandRun & {
  kind: "ssh-command";
  address?: string;
  sudo?: boolean;
  startedAt?: string;
  signal?: string | null;
  truncated?: boolean;
  error?: string;
};

/** An SSH failure as src/ssh SshError.toJSON() writes it. */
export type SshFailure = {
  kind: string;
  host: { name: string; address: string };
  message: string;
  text: Text;
  fix: Text;
  fingerprint?: string;
  expectedFingerprint?: string;
  command?: string;
  cause?: SshFailure;
};

export type SshErrorEvidence = {
  kind: "ssh-error";
  error: SshFailure;
};

// ---- The runner -------------------------------------------------------------------------

/** Skipped because a check it depends on did not pass. */
export type DependencyEvidence = {
  kind: "dependency";
  dependsOn: string;
  outcome: Outcome;
};

/** The grader itself failed while running the check. */
export type ExceptionEvidence = {
  kind: "exception";
  errorKind: string;
  message: string;
};

/** The check ran out of its own time. */
export type DeadlineEvidence = {
  kind: "deadline";
  timeoutMs: number;
  /** What the check was doing when it was cut short. */
  doing?: Text;
};

/** The run's time budget ran out before or during the check. */
export type BudgetEvidence = {
  kind: "budget";
  doing?: Text;
};

// ---- The network ------------------------------------------------------------------------

/** Each web server's default route, against the balancer's address it should be. */
export type DefaultRoutesEvidence = {
  kind: "default-routes";
  expected: string | null;
  seen: { backend: string; gateway: string | null }[];
  /** A routing table that could not be read: what the command printed. */
  unreadable?: { backend: string; output: string };
};

/** The balancer's NAT rules, and the web servers none of them covers. */
export type NatRulesEvidence = {
  kind: "nat-rules";
  rules: string[];
  uncovered: string[];
  /** The interface toward the service network the rules were judged for. */
  outInterface?: string;
  /** false: neither nft nor iptables-save could be read (the lists above say nothing). */
  readable?: boolean;
  /** The balancer's net.ipv4.ip_forward; null when it could not be read. */
  ipForward?: boolean | null;
};

/** Connections from each web server to an address outside: the source address they arrived from. */
export type NatReachEvidence = {
  kind: "nat-reach";
  /** address:port the web servers connected to; "" when no traffic test could run. */
  target: string;
  expectedFrom: string[];
  reached: { backend: string; from: string | null; natted: boolean | null }[];
  /**
   * Where hagrade sat: outside the balancer (a traffic test ran), on the balancer, behind an
   * address translator, or with every address on the server network; `reason` says why no
   * traffic test could tell NAT from routing.
   */
  place?: "outside" | "on-balancer" | "translated" | "server-network";
  reason?: Text;
};

/** Whether a process runs on the balancer. */
export type ProcessesEvidence = {
  kind: "processes";
  name: string;
  found: { pid: number; args?: string }[];
  /** How many processes the whole list had; null when no whole list could be read (then `found` says nothing). */
  listed?: number | null;
  /** Why the list could not be trusted. */
  unreadable?: Text;
};

/** A kernel setting read from /proc/sys: its value, or null when the read gave no value. */
export type SysctlEvidence = {
  kind: "sysctl";
  key: string;
  value: string | null;
  exitCode: number | null;
};

// ---- Apache -----------------------------------------------------------------------------

export type ApacheModulesEvidence = {
  kind: "apache-modules";
  family: string;
  os: string | null;
  listed: string[];
};

// ---- LVS and keepalived -----------------------------------------------------------------

/** The VIP's virtual service as `ipvsadm -Ln` lists it. */
export type IpvsServiceEvidence = {
  kind: "ipvs-service";
  /** The service line; null when the table has no service on the VIP. */
  service: string | null;
  realServers?: string[];
  ipvsLoaded?: boolean;
  persistent?: number | null;
  tableWeights?: Record<string, number> | null;
};

export type KernelModulesEvidence = {
  kind: "kernel-modules";
  required: string[];
  loaded: string[];
  /** Where the required list came from: expect.modules, the IPVS table's schedulers, expect.lbAlgo or the step. */
  requiredFrom?: string;
  /** Modules the lab text mentions that this lab neither needs nor loaded (named, not failed). */
  notNeeded?: string[];
};

/** The keepalived configuration files read (the main file and its includes). */
export type KeepalivedConfigEvidence = {
  kind: "keepalived-config";
  files: string[];
};

/** Per real server: the digest HTTP_GET expects against the page's real one. */
export type HttpGetDigestsEvidence = {
  kind: "http-get-digests";
  realServers: {
    backend: string;
    address: string;
    ok: boolean;
    problem?: Text;
    fix?: Text;
    configured?: string;
    computed?: string;
    genhash?: string;
  }[];
};

/** The time keepalived's timers allow for a server to leave and rejoin the table. */
export type HealthCheckBoundsSeen = {
  delayLoop: number;
  connectTimeout: number;
  retry: number;
  delayBeforeRetry: number;
  removalWaitSeconds: number;
  returnWaitSeconds: number;
  formula: Text;
};

/** One server's page made wrong: did HTTP_GET take it out of the table, and back in? */
export type HttpGetWrongPageEvidence = { kind: "http-get-wrong-page" } & (
  | { ran: false; reason: Text }
  | {
      ran: true;
      victim: string;
      file: string;
      urlPath: string;
      bounds: HealthCheckBoundsSeen;
      left: boolean;
      leftAfterSeconds?: number;
      watchedSeconds: number;
      back?: boolean;
      backAfterSeconds?: number;
      failure?: { kind: string; text: Text };
    }
);

/** The grader's own persistence template in `ipvsadm -Lnc`. */
export type PersistenceTemplateEvidence = {
  kind: "persistence-template";
  client: string | null;
  template: string | null;
  remainingSeconds: number | null;
};

/** A template's reading while a client stays idle. */
export type TemplateReadingSeen = {
  address: string;
  idleSeconds: number;
  present: boolean;
  remainingSeconds?: number;
  destination?: string;
};

/** The whole persistence timeout waited out (lvs.persistence-long). */
export type PersistenceLongEvidence = {
  kind: "persistence-long";
  expectedSeconds: number;
  tablePersistent: number | null;
  clients?: { address: string; server: string | null }[];
  atBind?: TemplateReadingSeen[];
  idleReadings?: TemplateReadingSeen[];
  holdProbe?: { address: string; idleSeconds: number; server: string | null; template: TemplateReadingSeen | null };
  idleClient?: { address: string; goneAfterSeconds: number | null; lastSeenSeconds: number | null; extraSeconds: number | null };
};

// ---- Old results ------------------------------------------------------------------------

/** Evidence of an old result that matches no kind of today: its fields, shown as a table. */
export type LegacyEvidence = {
  kind: "legacy";
  originalKind: string;
  fields: Record<string, unknown>;
};

/** Every kind of evidence a check may show. */
export type KnownEvidence =
  | HttpRequestEvidence
  | SampleEvidence
  | CookieTraceEvidence
  | KeepAliveBehaviourEvidence
  | OwnPagesEvidence
  | TcpReachEvidence
  | FailoverEvidence
  | VrrpFailoverEvidence
  | RestoreEvidence
  | SshCommandsEvidence
  | SshCommandEvidence
  | SshErrorEvidence
  | DependencyEvidence
  | ExceptionEvidence
  | DeadlineEvidence
  | BudgetEvidence
  | DefaultRoutesEvidence
  | NatRulesEvidence
  | NatReachEvidence
  | ProcessesEvidence
  | SysctlEvidence
  | ApacheModulesEvidence
  | IpvsServiceEvidence
  | KernelModulesEvidence
  | KeepalivedConfigEvidence
  | HttpGetDigestsEvidence
  | HttpGetWrongPageEvidence
  | PersistenceTemplateEvidence
  | PersistenceLongEvidence
  | LegacyEvidence;

/** What a verdict carries: evidence of a known kind, made by its constructor in `ev`. */
export type Evidence = KnownEvidence;

export type EvidenceKind = KnownEvidence["kind"];
export type EvidenceOf<K extends EvidenceKind> = Extract<KnownEvidence, { kind: K }>;

/**
 * One function per kind, for every reporter: a table of this type misses a kind → the program
 * does not compile. `R` is what the renderer returns, `C` what it is given besides the evidence.
 */
export type EvidenceRenderers<R, C = void> = RenderersFor<KnownEvidence, R, C>;

/** A renderer per kind of any union of evidence types (EvidenceRenderers is the one of today's). */
export type RenderersFor<E extends { kind: string }, R, C = void> = { [K in E["kind"]]: (e: Extract<E, { kind: K }>, context: C) => R };

/** Draws `e` with the renderer of its kind. */
export function renderEvidence<R, C>(renderers: EvidenceRenderers<R, C>, e: KnownEvidence, context: C): R {
  return (renderers[e.kind] as (e: KnownEvidence, context: C) => R)(e, context);
}

/** What a constructor takes: the evidence without its kind (distributed over a kind's variants). */
type Fields<T> = T extends unknown ? Omit<T, "kind"> : never;

function make<K extends EvidenceKind>(kind: K): (fields: Fields<EvidenceOf<K>>) => EvidenceOf<K> {
  return (fields) => ({ kind, ...fields }) as unknown as EvidenceOf<K>;
}

/**
 * The constructors: the only way evidence is made (test/engine/evidence-constructors.test.ts
 * fails on an evidence object literal anywhere else). One per kind, so a new kind needs one.
 */
export const ev = {
  httpRequest: make("http-request"),
  sample: make("sample"),
  cookieTrace: make("cookie-trace"),
  keepAliveBehaviour: make("keep-alive-behaviour"),
  ownPages: make("own-pages"),
  tcpReach: make("tcp-reach"),
  failover: make("failover"),
  vrrpFailover: make("vrrp-failover"),
  restore: make("restore"),
  sshCommands: make("ssh-commands"),
  sshCommand: make("ssh-command"),
  sshError: make("ssh-error"),
  dependency: make("dependency"),
  exception: make("exception"),
  deadline: make("deadline"),
  budget: make("budget"),
  defaultRoutes: make("default-routes"),
  natRules: make("nat-rules"),
  natReach: make("nat-reach"),
  processes: make("processes"),
  sysctl: make("sysctl"),
  apacheModules: make("apache-modules"),
  ipvsService: make("ipvs-service"),
  kernelModules: make("kernel-modules"),
  keepalivedConfig: make("keepalived-config"),
  httpGetDigests: make("http-get-digests"),
  httpGetWrongPage: make("http-get-wrong-page"),
  persistenceTemplate: make("persistence-template"),
  persistenceLong: make("persistence-long"),
  legacy: make("legacy"),
} as const;

/** Every kind has its constructor (this fails to compile when one is missing). */
type ConstructorKinds = ReturnType<(typeof ev)[keyof typeof ev]>["kind"];
const everyKindHasAConstructor: [EvidenceKind] extends [ConstructorKinds] ? true : never = true;
void everyKindHasAConstructor;
