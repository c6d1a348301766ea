import type { LabSpec } from "../config/schema.js";
import {
  createIdentifier,
  createProbeClient,
  fetchOnce,
  sample,
  type FetchOptions,
  type FetchResult,
  type Identify,
  type ProbeClient,
  type ProbeTarget,
  type RequestRecord,
  type SampleOptions,
  type SampleResult,
} from "../probe/index.js";
import type { RestoreJournal } from "../ssh/index.js";
import type { Prompter } from "./prompter.js";
import type { CheckRemote } from "./remote.js";
import { labelText } from "../report/i18n.js";
import type { Lang, Part, Text } from "./types.js";

export interface RunOptions {
  lang: Lang;
  /** Run checks that change the lab (stop a web server, change a page): teacher and CI. */
  disruptive: boolean;
  /** Run the checks that really wait out long timeouts (20 minutes of persistence). */
  long: boolean;
  /** Guide a person through steps hagrade cannot do itself (no SSH to a web server). */
  interactive: boolean;
  /** Who answers those steps (the terminal in the CLI); without one they are skipped. */
  prompter?: Prompter;
  acceptNewHostKeys: boolean;
  /** Folder of restore journals. */
  journalDir: string;
  /** Path of the spec file, recorded in journals so `hagrade restore` can reconnect. */
  specPath?: string;
  /** A batch: the roster whose row made this spec from the template at `specPath` (for `hagrade restore`). */
  rosterPath?: string;
}

/** Counters of what the grader sent: it grades, it does not load-test. */
export class Traffic {
  httpRequests = 0;
  sshCommands = 0;
}

/** HTTP helpers bound to the lab's VIP, its identity pattern, timeouts and rate bound. */
export class VipHttp {
  readonly target: ProbeTarget;
  readonly identify: Identify;

  constructor(
    private readonly spec: LabSpec,
    private readonly traffic: Traffic,
    private readonly signal: AbortSignal,
    private readonly onProgress: (progress: Text) => void,
    /** Awaited before the first request: e.g. the balancer taking back a member a previous failover stopped. */
    private readonly before?: () => Promise<void>,
  ) {
    this.target = {
      address: spec.vip.address,
      port: spec.vip.port,
      path: spec.vip.path,
      ...(spec.vip.host ? { host: spec.vip.host } : {}),
    };
    this.identify = identifierFor(spec);
  }

  private get timeouts() {
    return { connectMs: this.spec.timeouts.connect, headersMs: this.spec.timeouts.request, bodyMs: this.spec.timeouts.request };
  }

  /** One request, retried on transient network faults (never used for statistics). */
  async get(options: Omit<FetchOptions, "identify" | "timeouts"> = {}): Promise<FetchResult> {
    await this.before?.();
    const result = await fetchOnce(this.target, { identify: this.identify, timeouts: this.timeouts, signal: this.signal, ...options });
    this.traffic.httpRequests += result.attempts ?? 1;
    return result;
  }

  /**
   * A statistical sample: never retried (a retry would bias it); errors are their own label.
   * `label` names the sample in the progress line ("keep-alive", "client 3").
   */
  async sample(options: Omit<SampleOptions, "identify" | "timeouts" | "ratePerSecond"> & { label?: string }): Promise<SampleResult> {
    const { label, onRecord, ...rest } = options;
    const max = rest.maxRequests;
    await this.before?.();
    const result = await sample(this.target, {
      identify: this.identify,
      timeouts: this.timeouts,
      ratePerSecond: this.spec.sampling.ratePerSecond,
      signal: this.signal,
      ...rest,
      onRecord: (record: RequestRecord) => {
        this.traffic.httpRequests++;
        if (record.seq === 1 || record.seq % 10 === 0) this.onProgress(progressText.sampling(label ?? rest.mode, record.seq, max));
        onRecord?.(record);
      },
    });
    return result;
  }

  client(name: string, localAddress?: string): ProbeClient {
    return createProbeClient(name, localAddress ? { localAddress } : {});
  }
}

export function identifierFor(spec: LabSpec): Identify {
  return createIdentifier({
    pattern: new RegExp(spec.identity.pattern, spec.identity.flags),
    backends: spec.backends.map((b) => ({
      name: b.name,
      identity: b.identity,
      ...(b.match ? { match: new RegExp(b.match, spec.identity.flags) } : {}),
    })),
  });
}

export interface CheckContext {
  spec: LabSpec;
  lang: Lang;
  part: Part;
  options: RunOptions;
  http: VipHttp;
  /** SSH to the balancer and (through it) the web servers; absent when the spec gives no SSH. */
  ssh?: CheckRemote;
  /** The restore journal disruptive checks write before they change anything. */
  journal(): RestoreJournal;
  signal: AbortSignal;
  /** What the check is doing now, for the console's live line (see `progressText`). */
  progress(progress: Text): void;
  /** Shares one expensive measurement between checks that read it (e.g. one sample, two verdicts). */
  memo<T>(key: string, compute: () => Promise<T>): Promise<T>;
}

export function backendNames(spec: LabSpec): string[] {
  return spec.backends.map((b) => b.name);
}

const seconds = (ms: number) => Math.max(0, Math.round(ms / 1000));

/**
 * The progress lines of long checks, in both languages. Sample labels are the stable English
 * keys the evidence keeps ("cookieless", "from 10.0.0.3"); they are named through the reports'
 * label table.
 */
export const progressText = {
  sampling: (label: string, n: number, max: number): Text => ({
    es: `muestra «${labelText(label, "es")}» ${n}/${max}`,
    en: `sampling "${labelText(label, "en")}" ${n}/${max}`,
  }),
  waitingForService: (victim: string): Text => ({
    es: `esperando que ${victim} sirva por la VIP antes de pararlo`,
    en: `waiting for ${victim} to serve through the VIP before stopping it`,
  }),
  waitingForFailover: (elapsedMs: number, maxMs: number): Text => ({
    es: `esperando la conmutación (${seconds(elapsedMs)} s de ${seconds(maxMs)} s como máximo)`,
    en: `waiting for the failover (${seconds(elapsedMs)} s of ${seconds(maxMs)} s at most)`,
  }),
  waitingForRejoin: (victim: string, elapsedMs: number, maxMs: number): Text => ({
    es: `esperando que ${victim} vuelva al servicio (${seconds(elapsedMs)} s de ${seconds(maxMs)} s como máximo)`,
    en: `waiting for ${victim} to rejoin (${seconds(elapsedMs)} s of ${seconds(maxMs)} s at most)`,
  }),
  waitingForNotedRejoin: (victim: string, leftMs: number): Text => ({
    es: `esperando que el balanceador vuelva a enviar tráfico a ${victim}, parado por una evaluación anterior (retry= de Apache, ${seconds(leftMs)} s como máximo)`,
    en: `waiting for the balancer to send ${victim} traffic again after a previous grade stopped it (Apache's retry=, ${seconds(leftMs)} s at most)`,
  }),
  waitingForVipBack: (master: string): Text => ({
    es: `arrancando keepalived en ${master} y esperando que recupere la VIP`,
    en: `starting keepalived on ${master} and waiting for it to take the VIP back`,
  }),
};
