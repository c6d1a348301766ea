/**
 * Steady traffic through the VIP while a server is stopped and started, and the waits a failover
 * measures against it: the victim in service before the stop, the traffic settled without it.
 */
import type { ProbeClient } from "../../probe/index.js";
import type { CheckContext } from "../context.js";
import { findRouteCookie } from "../cookies.js";

export interface Mark {
  /** ms since the watch started. */
  t: number;
  client: string;
  label: string;
  status?: number;
  error?: string;
  route?: string | null;
}

/** Consecutive answers without the victim that count as "traffic has moved". */
export const SETTLED_ANSWERS = 10;
/** The victim's page seen this long after its server was stopped means it comes from elsewhere. */
export const CHEAT_WINDOW_MS = 3000;

/**
 * Steady traffic through the VIP while a server is stopped and started: each tick sends one
 * request per simulated client on a new connection (what both LVS and Apache balance), never
 * retried, so every failed request counts.
 */
export class TrafficWatch {
  readonly marks: Mark[] = [];
  readonly events: { t: number; what: string }[] = [];
  private readonly started = performance.now();
  /** Wall-clock time (epoch ms) of the watch's 0: marks' `t` count from it. */
  readonly startedAt = Date.now();
  private running = true;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly ctx: CheckContext,
    private readonly clients: { name: string; client?: ProbeClient }[],
    private readonly intervalMs: number,
  ) {}

  /** One request per client every 100 ms, slower if the spec's rate bound asks for it. */
  static tickFor(ctx: CheckContext, clients: number): number {
    return Math.max(100, Math.ceil((1000 * clients) / ctx.spec.sampling.ratePerSecond));
  }

  now(): number {
    return Math.round(performance.now() - this.started);
  }

  event(what: string): void {
    this.events.push({ t: this.now(), what });
  }

  start(): this {
    this.loop = (async () => {
      while (this.running && !this.ctx.signal.aborted) {
        const tick = performance.now();
        for (const c of this.clients) {
          const t = this.now();
          const r = await this.ctx.http.get({ retries: 0, ...(c.client ? { client: c.client } : {}) });
          const mark: Mark = { t, client: c.name, label: r.ok ? (r.label ?? "unidentified") : `error:${r.error.class}` };
          if (r.ok) {
            mark.status = r.status;
            const cookie = findRouteCookie(r.setCookie, this.ctx.spec.expect.cookieName);
            if (cookie) mark.route = cookie.route;
            if (r.status >= 500) mark.label = `error:http-${r.status}`;
          } else mark.error = r.error.class;
          this.marks.push(mark);
        }
        const wait = this.intervalMs - (performance.now() - tick);
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
    })();
    return this;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /**
   * Resolves when `predicate` holds for the marks, polling as marks arrive; false on timeout.
   * `onWait` hears the time waited so far at each poll (the console's progress line).
   */
  async until(predicate: (marks: Mark[]) => boolean, timeoutMs: number, onWait?: (elapsedMs: number) => void): Promise<boolean> {
    const begin = performance.now();
    const deadline = begin + timeoutMs;
    while (performance.now() < deadline && !this.ctx.signal.aborted) {
      if (predicate(this.marks)) return true;
      onWait?.(performance.now() - begin);
      await new Promise((resolve) => setTimeout(resolve, Math.max(20, this.intervalMs / 2)));
    }
    return predicate(this.marks);
  }

  /**
   * Waits for the victim to serve through the VIP, beside the survivors (or after 20 answers),
   * within `boundMs`: a member that failed recently stays out for Apache's `retry`.
   */
  inService(victim: string, survivors: string[], boundMs: number): Promise<boolean> {
    return this.until((m) => m.some((x) => x.label === victim) && (survivors.every((n) => m.some((x) => x.label === n)) || m.length >= 20), boundMs);
  }
}

/**
 * Settled: the last SETTLED_ANSWERS requests of every client since `from` all answered, and none
 * by the victim (errors mean the balancer has not noticed yet).
 */
export function settledWithout(marks: Mark[], victim: string, clients: number, from: number): boolean {
  const tail = marks.filter((x) => x.t >= from).slice(-SETTLED_ANSWERS * clients);
  return tail.length >= SETTLED_ANSWERS * clients && tail.every((x) => x.label !== victim && !x.label.startsWith("error:"));
}

/** Polls `probe` with growing pauses (0.2 s doubling to 2 s) until it says yes or the bound passes. */
export async function pollWithBackoff(probe: () => Promise<boolean>, boundMs: number, signal: AbortSignal, onWait?: (elapsedMs: number) => void): Promise<boolean> {
  const begin = performance.now();
  const deadline = begin + boundMs;
  let pause = 200;
  while (performance.now() < deadline && !signal.aborted) {
    if (await probe()) return true;
    onWait?.(performance.now() - begin);
    await new Promise((resolve) => setTimeout(resolve, pause));
    pause = Math.min(2000, pause * 2);
  }
  return false;
}
