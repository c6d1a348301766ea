/**
 * A client address's persistence binding watched over a real idle period: one new connection
 * binds the address to a server, then only `ipvsadm -Lnc` on the balancer is read (no traffic
 * from that address) until the template (client port 0) is gone or a bound passes.
 */
import type { IpvsConnection } from "../../src/inspect/index.js";
import type { CheckContext } from "../../src/runner/context.js";
import { ownTemplate, vipTemplates } from "./ipvs.js";

/**
 * IPVS keeps a template while connections it controls live: a connection closed normally sits
 * in TIME_WAIT for 120 s, and an expired template that still controls one is re-armed for 60 s
 * (ip_vs_conn_expire). So a template can outlive its timeout by up to ~180 s; 60 s more allows
 * for a loaded balancer and the polling step.
 */
export const TEMPLATE_EXTRA_BOUND_SECONDS = 240;

/** Polling of the table while idle: often enough to time the end, rarely enough to stay quiet. */
export function pollStepMs(timeoutSeconds: number): number {
  return Math.min(30_000, Math.max(2_000, (timeoutSeconds * 1000) / 10));
}

export interface BoundClient {
  /** The source address (the grader's own when the spec gives no spare one). */
  address: string;
  /** The backend that answered the binding connection. */
  server: string;
  /** ms (run clock) when the binding connection was answered: the idle time counts from here. */
  boundAt: number;
}

export interface TemplateReading {
  address: string;
  /** Seconds since the client's last connection. */
  idleSeconds: number;
  present: boolean;
  /** The template's countdown as ipvsadm -Lnc printed it. */
  remainingSeconds?: number;
  destination?: string;
}

export const now = (): number => performance.now();

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(done, Math.max(0, ms));
    function done() {
      signal.removeEventListener("abort", abort);
      resolve();
    }
    function abort() {
      clearTimeout(timer);
      reject(signal.reason as Error);
    }
    signal.addEventListener("abort", abort, { once: true });
  });
}

/** One new connection from `address` (undefined: the grader's own); null when the VIP did not answer. */
export async function connectFrom(ctx: CheckContext, address: string | undefined, label: string): Promise<{ address: string; server: string; at: number } | null> {
  const s = await ctx.http.sample({ mode: "new-connection", maxRequests: 1, label, ...(address ? { localAddress: address } : {}) });
  const record = s.records[0];
  if (!record?.backend) return null;
  return { address: record.localAddress ?? address ?? "", server: record.backend, at: now() };
}

/** Each client's template now; undefined when the table could not be read (a transient SSH fault). */
export async function readTemplates(ctx: CheckContext, clients: readonly BoundClient[]): Promise<Map<string, IpvsConnection | undefined> | undefined> {
  const templates = await vipTemplates(ctx);
  if (!templates) return undefined;
  const entries = await Promise.all(
    clients.map(async (c) => {
      // The grader's own address (not a grader.sourceAddresses one) may reach the balancer translated.
      if (ctx.spec.grader.sourceAddresses.includes(c.address)) return [c.address, templates.find((t) => t.source.address === c.address)] as const;
      return [c.address, (await ownTemplate(ctx, templates, c.address)).template] as const;
    }),
  );
  return new Map(entries);
}

export function reading(client: BoundClient, template: IpvsConnection | undefined, at = now()): TemplateReading {
  return {
    address: client.address,
    idleSeconds: round1((at - client.boundAt) / 1000),
    present: template !== undefined,
    ...(template ? { remainingSeconds: template.expireSeconds, destination: `${template.destination.address}:${template.destination.port ?? 0}` } : {}),
  };
}

/**
 * Stays idle until `until` (run clock), reading the table every `stepMs`; returns early with the
 * first client whose template is gone.
 */
export async function idleWatching(
  ctx: CheckContext,
  clients: readonly BoundClient[],
  until: number,
  stepMs: number,
  log: TemplateReading[],
): Promise<{ lost?: BoundClient }> {
  for (;;) {
    const left = until - now();
    if (left <= 0) return {};
    await sleep(Math.min(stepMs, left), ctx.signal);
    const at = now();
    const map = await readTemplates(ctx, clients);
    if (!map) continue;
    for (const c of clients) {
      const r = reading(c, map.get(c.address), at);
      log.push({ ...r });
      if (!r.present) return { lost: c };
    }
  }
}

/** Polls with backoff (1 s, ×1.5, capped at `capMs`) until the client's template is gone or `until` passes. */
export async function untilTemplateGone(
  ctx: CheckContext,
  client: BoundClient,
  until: number,
  capMs: number,
  log: TemplateReading[],
): Promise<{ goneAt?: number }> {
  let step = 1000;
  for (;;) {
    const at = now();
    const map = await readTemplates(ctx, [client]);
    if (map) {
      const r = reading(client, map.get(client.address), at);
      log.push(r);
      if (!r.present) return { goneAt: at };
    }
    if (now() >= until) return {};
    await sleep(Math.min(step, Math.max(0, until - now())), ctx.signal);
    step = Math.min(capMs, step * 1.5);
  }
}

export function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
