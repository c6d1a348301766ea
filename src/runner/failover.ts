import type { Backend } from "../config/schema.js";
import type { ProbeClient } from "../probe/index.js";
import { RestoreStepError, SshError, withRestore, type RestoreReport } from "../ssh/index.js";
import { progressText, type CheckContext } from "./context.js";
import { findRouteCookie } from "./cookies.js";
import { fetchPageCommand } from "./pages.js";
import { fail, graderError, inconclusive, remote, skipped, text } from "./check.js";
import type { Evidence, Text, Verdict } from "./types.js";

/** Default commands: systemd where it runs, else SysV `service`, else apachectl (Debian and RHEL names). */
export const DEFAULT_STOP =
  "if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then systemctl stop apache2 2>/dev/null || systemctl stop httpd; " +
  "elif command -v service >/dev/null 2>&1; then service apache2 stop 2>/dev/null || service httpd stop; " +
  "else apache2ctl graceful-stop 2>/dev/null || apachectl graceful-stop; fi";
export const DEFAULT_START =
  "if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then systemctl start apache2 2>/dev/null || systemctl start httpd; " +
  "elif command -v service >/dev/null 2>&1; then service apache2 start 2>/dev/null || service httpd start; " +
  "else apache2ctl start 2>/dev/null || apachectl start; fi";

export interface Mark {
  /** ms since the watch started. */
  t: number;
  client: string;
  label: string;
  status?: number;
  error?: string;
  route?: string | null;
}

/**
 * Steady traffic through the VIP while a server is stopped and started: each tick sends one
 * request per simulated client on a new connection (what both LVS and Apache balance), never
 * retried, so every failed request counts.
 */
export class TrafficWatch {
  readonly marks: Mark[] = [];
  readonly events: { t: number; what: string }[] = [];
  private readonly started = performance.now();
  private running = true;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly ctx: CheckContext,
    private readonly clients: { name: string; client?: ProbeClient }[],
    private readonly intervalMs: number,
  ) {}

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
}

export interface FailoverMeasure {
  victim: string;
  survivors: string[];
  stoppedAt?: number;
  startedAt?: number;
  /** When the outage ended on purpose (the restore began). */
  outageEnd?: number;
  /** ms from the stop until the victim's last answer (0 if none came after the stop). */
  detectMs?: number;
  failedRequests: number;
  /** The victim kept answering after it was stopped: its page comes from elsewhere. */
  victimStillAnswering: boolean;
  rejoinMs?: number;
  rejoined: boolean;
  /** The victim never answered through the VIP before the test: nothing was changed. */
  victimNotInService?: boolean;
  /** Absent when nothing was changed. */
  restore?: RestoreReport;
  timeline: Mark[];
  events: { t: number; what: string }[];
  /**
   * The experiment did not run as planned: the stop command failed ("change-failed": the victim
   * was never stopped), the watch outlived its bound, or a read during the outage failed.
   */
  failure?: { kind: string; text: Text };
  /**
   * A person stopped and started the victim (no SSH to it, --interactive): what they confirmed,
   * and whether the victim is known to run again (confirmed, or seen through the VIP).
   */
  guided?: { stopConfirmed: boolean; startConfirmed: boolean; back: boolean; startHint: Text };
}

type FailoverOptions = Parameters<typeof measureFailover>[2];

/** How long a person has to stop, or to start, the web server when asked. */
export const PERSON_BOUND_MS = 120_000;

/**
 * hagrade stops the victim itself when it has a usable SSH to it; otherwise a person must. With
 * --interactive, an SSH that does not connect or has no POSIX shell (Windows' OpenSSH runs
 * cmd.exe) also hands the job to the person; without it, such an SSH fails as it always did.
 */
export function failoverByPerson(ctx: CheckContext, victim: Backend): Promise<boolean> {
  return ctx.memo(`failover-by-person:${victim.name}`, async () => {
    const ssh = ctx.ssh;
    if (!ssh?.has(victim.name)) return true;
    if (!ctx.options.interactive || !ctx.options.prompter?.canAsk) return false;
    try {
      const r = await ssh.exec(victim.name, "echo hagrade-posix-$((6*7))", { timeoutMs: 10_000 });
      return !r.stdout.includes("hagrade-posix-42");
    } catch (error) {
      if (error instanceof SshError) return true;
      throw error;
    }
  });
}

/**
 * Why a failover cannot run at all: no SSH to the victim and nobody to guide (no --interactive,
 * or no terminal to ask on). Undefined when it can run.
 */
export async function failoverUnavailable(ctx: CheckContext, victim: Backend): Promise<Verdict | undefined> {
  if (!(await failoverByPerson(ctx, victim))) return undefined;
  if (!ctx.options.interactive) {
    return skipped(
      text(
        `Sin SSH a ${victim.name}, hagrade no puede parar su servidor web: ejecute con --interactive para que una persona lo pare y lo arranque mientras hagrade observa la VIP.`,
        `Without SSH to ${victim.name}, hagrade cannot stop its web server: run with --interactive so a person stops and starts it while hagrade watches the VIP.`,
      ),
    );
  }
  if (!ctx.options.prompter?.canAsk) {
    return skipped(
      text(
        `--interactive necesita un terminal donde alguien pare y arranque el servidor web de ${victim.name} cuando se le pida; esta ejecución no tiene terminal.`,
        `--interactive needs a terminal where someone stops and starts ${victim.name}'s web server when asked; this run has none.`,
      ),
    );
  }
  return undefined;
}

/** What the person is told to run: the spec's own commands, else the usual ones per system. */
function personHints(victim: Backend): { stop: Text; start: Text } {
  const stop = victim.service.stop;
  const start = victim.service.start;
  return {
    stop: stop
      ? text(`(${stop})`, `(${stop})`)
      : text(
          "(p. ej. systemctl stop httpd, service apache2 stop, o en Windows: iisreset /stop)",
          "(e.g. systemctl stop httpd, service apache2 stop, or on Windows: iisreset /stop)",
        ),
    start: start
      ? text(`(${start})`, `(${start})`)
      : text(
          "(p. ej. systemctl start httpd, service apache2 start, o en Windows: iisreset /start)",
          "(e.g. systemctl start httpd, service apache2 start, or on Windows: iisreset /start)",
        ),
  };
}

/** Bound on the stop and start commands themselves. */
const STOP_START_TIMEOUT_MS = 30_000;

/** Consecutive answers without the victim that count as "traffic has moved". */
const SETTLED_ANSWERS = 10;
/** The victim's page seen this long after its server was stopped means it comes from elsewhere. */
const CHEAT_WINDOW_MS = 3000;

/**
 * Stops the web server `victim` over SSH (journaled first, undone in all cases and verified),
 * watches the VIP while it is down and after it is started again, and measures what happened.
 */
export async function measureFailover(
  ctx: CheckContext,
  victim: Backend,
  options: {
    clients: { name: string; client?: ProbeClient }[];
    waitFor?: (marks: Mark[], stoppedAt: number) => boolean;
    /** Whether the outage went well enough to be worth waiting for the victim's return. */
    outageOk?: (outage: Mark[]) => boolean;
    /** Called once traffic has settled without the victim, before it is started again (e.g. read the IPVS table). */
    duringOutage?: () => Promise<void>;
    /**
     * How to see the victim back; default: its page through the VIP. With LVS persistence every
     * client stays where it was moved, so the IPVS table tells instead.
     */
    rejoined?: () => Promise<boolean>;
  },
): Promise<FailoverMeasure> {
  if (await failoverByPerson(ctx, victim)) return measureGuidedFailover(ctx, victim, options);
  const ssh = remote(ctx);
  const page = await ssh.exec(victim.name, fetchPageCommand("127.0.0.1", victim.port, ctx.spec.vip.path), { timeoutMs: 10_000 });
  const literal = identityText(ctx, victim, page.stdout);
  const verify = literal
    ? `${fetchPageCommand("127.0.0.1", victim.port, ctx.spec.vip.path)} | grep -qF -- '${literal.replace(/'/g, "'\\''")}'`
    : fetchPageCommand("127.0.0.1", victim.port, ctx.spec.vip.path);
  // One request per client every 100 ms, slower if the spec's rate bound asks for it.
  const tickMs = Math.max(100, Math.ceil((1000 * options.clients.length) / ctx.spec.sampling.ratePerSecond));
  const watch = new TrafficWatch(ctx, options.clients, tickMs).start();
  const survivors = ctx.spec.backends.filter((b) => b.name !== victim.name).map((b) => b.name);
  const failoverMs = ctx.spec.timeouts.failover;
  let stoppedAt: number | undefined;
  let victimStillAnswering = false;
  let restoringAt: number | undefined;
  const rejoinMs = ctx.spec.timeouts.rejoin;
  const waitingForRejoin = (elapsed: number) => ctx.progress(progressText.waitingForRejoin(victim.name, elapsed, rejoinMs));
  try {
    // A baseline: the victim must be serving through the VIP before it is stopped (a member
    // that failed recently stays out for Apache's `retry`, 60 s by default).
    ctx.progress(progressText.waitingForService(victim.name));
    const inService = await watch.until(
      (m) => m.some((x) => x.label === victim.name) && (survivors.every((n) => m.some((x) => x.label === n)) || m.length >= 20),
      ctx.spec.timeouts.rejoin,
    );
    if (!inService) {
      await watch.stop();
      return {
        victim: victim.name,
        survivors,
        failedRequests: 0,
        victimStillAnswering: false,
        victimNotInService: true,
        rejoined: false,
        timeline: watch.marks,
        events: watch.events,
      };
    }
    // The clock starts before the journaled change runs: the stop takes effect while the SSH
    // command is still returning, and the requests of that moment belong to the failover.
    stoppedAt = watch.now();
    watch.event("stop");
    const outcome = await withRestore(
      { journal: ctx.journal(), pool: ssh.pool },
      {
        host: victim.name,
        description: {
          es: `Parar el servidor web de ${victim.name} para comprobar la conmutación por error`,
          en: `Stop ${victim.name}'s web server to check failover`,
        },
        before: fetchPageCommand("127.0.0.1", victim.port, ctx.spec.vip.path),
        change: victim.service.stop ?? DEFAULT_STOP,
        undo: victim.service.start ?? DEFAULT_START,
        verify,
        timeoutMs: failoverMs + 10_000,
        // Stopping a web server may wait for open connections (and a loaded VM is slow): more than one SSH round trip.
        execTimeoutMs: Math.max(ctx.spec.timeouts.ssh, STOP_START_TIMEOUT_MS),
      },
      async () => {
        // The stop command has returned: from here on the victim's page must vanish.
        const stopReturnedAt = watch.now();
        watch.event("stopped");
        const after = (m: Mark[]) => m.filter((x) => x.t >= stoppedAt!);
        const settled = (m: Mark[]) => {
          const tail = after(m).slice(-SETTLED_ANSWERS * options.clients.length);
          // Settled: every recent request answered, and none by the victim (errors mean the balancer has not noticed yet).
          return tail.length >= SETTLED_ANSWERS * options.clients.length && tail.every((x) => x.label !== victim.name && !x.label.startsWith("error:"));
        };
        await watch.until((m) => settled(m) && (options.waitFor?.(m, stoppedAt!) ?? true), failoverMs, (elapsed) =>
          ctx.progress(progressText.waitingForFailover(elapsed, failoverMs)),
        );
        await options.duringOutage?.();
        const lastVictim = after(watch.marks).filter((x) => x.label === victim.name).pop();
        victimStillAnswering = lastVictim !== undefined && lastVictim.t - stopReturnedAt > CHEAT_WINDOW_MS;
        restoringAt = watch.now();
        watch.event("restoring");
      },
    );
    const startedAt = watch.now();
    watch.event(outcome.restore.restored ? "started (verified)" : "start attempted");
    let rejoined = false;
    const outage = watch.marks.filter((x) => x.t >= stoppedAt! && x.t <= (restoringAt ?? startedAt));
    if (outcome.restore.restored && !victimStillAnswering && (options.outageOk?.(outage) ?? true)) {
      if (options.rejoined) {
        rejoined = await pollWithBackoff(options.rejoined, rejoinMs, ctx.signal, waitingForRejoin);
        if (rejoined) watch.event("rejoined");
      } else {
        rejoined = await watch.until((m) => m.some((x) => x.t > startedAt && x.label === victim.name), rejoinMs, waitingForRejoin);
      }
    }
    await watch.stop();
    const marks = watch.marks;
    const outageEnd = restoringAt ?? startedAt;
    const transition = marks.filter((x) => stoppedAt !== undefined && x.t >= stoppedAt && x.t <= outageEnd);
    const lastVictim = transition.filter((x) => x.label === victim.name).pop();
    const back = watch.events.find((e) => e.what === "rejoined");
    const firstBack = back ?? marks.find((x) => x.t > startedAt && x.label === victim.name);
    return {
      victim: victim.name,
      survivors,
      ...(stoppedAt !== undefined ? { stoppedAt } : {}),
      startedAt,
      outageEnd,
      ...(stoppedAt !== undefined ? { detectMs: lastVictim ? lastVictim.t - stoppedAt : 0 } : {}),
      failedRequests: transition.filter((x) => x.label.startsWith("error:")).length,
      victimStillAnswering,
      ...(firstBack ? { rejoinMs: firstBack.t - startedAt } : {}),
      rejoined,
      restore: outcome.restore,
      timeline: marks,
      events: watch.events,
      ...(outcome.error !== undefined ? { failure: describeFailure(outcome.error) } : {}),
    };
  } finally {
    await watch.stop();
  }
}

/**
 * The same experiment with a person's hands: hagrade asks them to stop the victim's web server
 * and to press Enter, watches the VIP move to the survivors, asks them to start it again, and
 * watches it return. hagrade changes nothing itself, so there is nothing to journal; a server
 * the person never starts again is reported as still stopped.
 */
async function measureGuidedFailover(ctx: CheckContext, victim: Backend, options: FailoverOptions): Promise<FailoverMeasure> {
  const prompter = ctx.options.prompter!;
  const hints = personHints(victim);
  const tickMs = Math.max(100, Math.ceil((1000 * options.clients.length) / ctx.spec.sampling.ratePerSecond));
  const watch = new TrafficWatch(ctx, options.clients, tickMs).start();
  const survivors = ctx.spec.backends.filter((b) => b.name !== victim.name).map((b) => b.name);
  const base = { victim: victim.name, survivors, failedRequests: 0, victimStillAnswering: false, rejoined: false } as const;
  const rejoinMs = ctx.spec.timeouts.rejoin;
  const waitingForRejoin = (elapsed: number) => ctx.progress(progressText.waitingForRejoin(victim.name, elapsed, rejoinMs));
  try {
    ctx.progress(progressText.waitingForService(victim.name));
    const inService = await watch.until(
      (m) => m.some((x) => x.label === victim.name) && (survivors.every((n) => m.some((x) => x.label === n)) || m.length >= 20),
      ctx.spec.timeouts.rejoin,
    );
    if (!inService) {
      await watch.stop();
      return { ...base, victimNotInService: true, timeline: watch.marks, events: watch.events };
    }
    const askedAt = watch.now();
    watch.event("asked to stop");
    const seconds = Math.round(PERSON_BOUND_MS / 1000);
    const stopAnswer = await prompter.waitForEnter(
      text(
        `Pare AHORA el servidor web de ${victim.name} (${victim.address}) ${hints.stop.es} y pulse Intro cuando esté parado (${seconds} s como máximo). hagrade observa la VIP.`,
        `Stop the web server on ${victim.name} (${victim.address}) NOW ${hints.stop.en} and press Enter once it is stopped (${seconds} s at most). hagrade is watching the VIP.`,
      ),
      { timeoutMs: PERSON_BOUND_MS, signal: ctx.signal },
    );
    const confirmedAt = watch.now();
    if (stopAnswer !== "confirmed") {
      watch.event("stop not confirmed");
      // The person may have stopped it without saying so: it must not be left stopped unasked.
      const gone = !watch.marks.slice(-SETTLED_ANSWERS * options.clients.length).some((x) => x.label === victim.name);
      if (gone) prompter.say(text(`Vuelva a arrancar el servidor web de ${victim.name} ${hints.start.es}.`, `Start the web server on ${victim.name} again ${hints.start.en}.`));
      await watch.stop();
      return {
        ...base,
        timeline: watch.marks,
        events: watch.events,
        guided: { stopConfirmed: false, startConfirmed: false, back: !gone, startHint: hints.start },
      };
    }
    watch.event("stop confirmed");
    // The stop happened between the question and the Enter: right after the victim's last answer in that window.
    const lastBefore = watch.marks.filter((x) => x.t >= askedAt && x.t <= confirmedAt && x.label === victim.name).pop();
    const stoppedAt = lastBefore ? lastBefore.t + 1 : askedAt;
    const after = (m: Mark[]) => m.filter((x) => x.t >= confirmedAt);
    const settled = (m: Mark[]) => {
      const tail = after(m).slice(-SETTLED_ANSWERS * options.clients.length);
      return tail.length >= SETTLED_ANSWERS * options.clients.length && tail.every((x) => x.label !== victim.name && !x.label.startsWith("error:"));
    };
    await watch.until((m) => settled(m) && (options.waitFor?.(m, stoppedAt) ?? true), ctx.spec.timeouts.failover, (elapsed) =>
      ctx.progress(progressText.waitingForFailover(elapsed, ctx.spec.timeouts.failover)),
    );
    await options.duringOutage?.();
    const lastVictim = after(watch.marks).filter((x) => x.label === victim.name).pop();
    const victimStillAnswering = lastVictim !== undefined && lastVictim.t - confirmedAt > CHEAT_WINDOW_MS;
    const restoringAt = watch.now();
    watch.event("asked to start");
    const startAnswer = await prompter.waitForEnter(
      text(
        `Arranque de nuevo el servidor web de ${victim.name} ${hints.start.es} y pulse Intro cuando esté arrancado.`,
        `Start the web server on ${victim.name} again ${hints.start.en} and press Enter once it is running.`,
      ),
      { timeoutMs: PERSON_BOUND_MS, signal: ctx.signal },
    );
    const startedAt = watch.now();
    watch.event(startAnswer === "confirmed" ? "start confirmed" : "start not confirmed");
    const outage = watch.marks.filter((x) => x.t >= stoppedAt && x.t <= restoringAt);
    let rejoined = false;
    // A start nobody confirmed is still looked for: the victim's page back through the VIP says it runs.
    if ((startAnswer !== "confirmed" || (!victimStillAnswering && (options.outageOk?.(outage) ?? true)))) {
      if (options.rejoined) rejoined = await pollWithBackoff(options.rejoined, rejoinMs, ctx.signal, waitingForRejoin);
      else rejoined = await watch.until((m) => m.some((x) => x.t > startedAt && x.label === victim.name), rejoinMs, waitingForRejoin);
      if (rejoined) watch.event("rejoined");
    }
    await watch.stop();
    const marks = watch.marks;
    const transition = marks.filter((x) => x.t >= stoppedAt && x.t <= restoringAt);
    const lastInTransition = transition.filter((x) => x.label === victim.name).pop();
    const back = watch.events.find((e) => e.what === "rejoined") ?? marks.find((x) => x.t > startedAt && x.label === victim.name);
    return {
      ...base,
      stoppedAt,
      startedAt,
      outageEnd: restoringAt,
      detectMs: lastInTransition ? lastInTransition.t - stoppedAt : 0,
      failedRequests: transition.filter((x) => x.label.startsWith("error:")).length,
      victimStillAnswering,
      ...(back ? { rejoinMs: back.t - startedAt } : {}),
      rejoined,
      timeline: marks,
      events: watch.events,
      guided: { stopConfirmed: true, startConfirmed: startAnswer === "confirmed", back: startAnswer === "confirmed" || rejoined, startHint: hints.start },
    };
  } finally {
    await watch.stop();
  }
}

function describeFailure(error: unknown): { kind: string; text: Text } {
  if (error instanceof RestoreStepError) return { kind: error.kind, text: error.text };
  if (error instanceof SshError) return { kind: `ssh-${error.kind}`, text: { es: error.message, en: error.message } };
  const message = error instanceof Error ? error.message : String(error);
  return { kind: "error", text: { es: message, en: message } };
}

/** Polls `probe` with growing pauses (0.2 s doubling to 2 s) until it says yes or the bound passes. */
async function pollWithBackoff(probe: () => Promise<boolean>, boundMs: number, signal: AbortSignal, onWait?: (elapsedMs: number) => void): Promise<boolean> {
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

/** The identity text exactly as the page shows it ("Bienvenido a webserver1"), for a literal grep. */
function identityText(ctx: CheckContext, victim: Backend, body: string): string | undefined {
  const re = new RegExp(victim.match ?? ctx.spec.identity.pattern, ctx.spec.identity.flags);
  const m = re.exec(body.slice(0, 65536));
  return m?.[0] && m[0].length <= 200 ? m[0] : undefined;
}

/**
 * The verdicts every failover check shares, before its own judgement of the outage: the victim
 * never served (nothing was stopped), it could not be started again (the grader's trouble: it
 * says what is left to do by hand), or its page outlived its server (one machine serves both).
 * `member` names the victim's line in the student's configuration.
 */
export function sharedFailoverVerdict(m: FailoverMeasure, member: Text, evidence: Evidence[]): Verdict | undefined {
  const victim = m.victim;
  if (m.guided && !m.victimNotInService) return guidedFailoverVerdict(m, m.guided, evidence);
  if (m.victimNotInService || !m.restore) {
    return fail(
      text(
        `${victim} no recibió tráfico por la VIP: no se puede comprobar la conmutación (no se paró nada).`,
        `${victim} got no traffic through the VIP: failover cannot be shown (nothing was stopped).`,
      ),
      text(`Arranque el servidor web de ${victim} y compruebe ${member.es}.`, `Start ${victim}'s web server and check ${member.en}.`),
      evidence,
    );
  }
  if (!m.restore.restored) {
    const todo = m.restore.leftToDo;
    return graderError(
      text(
        `¡No se pudo volver a arrancar el servidor web de ${victim}! Queda pendiente: ${todo ? todo.commands.join("; ") : "arrancarlo a mano"}.`,
        `Could not start ${victim}'s web server again! Left to do: ${todo ? todo.commands.join("; ") : "start it by hand"}.`,
      ),
      text(`Ejecute hagrade restore o arránquelo a mano en ${victim}.`, `Run hagrade restore or start it by hand on ${victim}.`),
      evidence,
    );
  }
  if (m.failure?.kind === "change-failed") {
    return inconclusive(
      text(`No se pudo parar el servidor web de ${victim}, así que no se midió nada: ${m.failure.text.es}`, `Could not stop ${victim}'s web server, so nothing was measured: ${m.failure.text.en}`),
      text(
        `Compruebe que el usuario SSH puede usar sudo sin contraseña en ${victim}, o indique la orden en backends[].service.stop de la especificación.`,
        `Check that the SSH user may sudo without a password on ${victim}, or give the command in the spec's backends[].service.stop.`,
      ),
      evidence,
    );
  }
  if (m.failure) {
    return graderError(
      text(`La medida de la conmutación se interrumpió (${victim} ya está arrancado de nuevo): ${m.failure.text.es}`, `The failover measurement broke off (${victim} is running again): ${m.failure.text.en}`),
      text("Vuelva a ejecutar la comprobación; si se repite, revise la conexión SSH con el laboratorio.", "Run the check again; if it happens again, check the SSH connection to the lab."),
      evidence,
    );
  }
  return m.victimStillAnswering ? onePageTwoServers(victim, evidence) : undefined;
}

/** The shared verdicts of a failover a person carried out; undefined when the outage is to be judged. */
function guidedFailoverVerdict(m: FailoverMeasure, guided: NonNullable<FailoverMeasure["guided"]>, evidence: Evidence[]): Verdict | undefined {
  const victim = m.victim;
  const seconds = Math.round(PERSON_BOUND_MS / 1000);
  if (!guided.back) {
    return inconclusive(
      text(
        `¡El servidor web de ${victim} parece seguir parado! Nadie confirmó que se arrancara de nuevo en ${seconds} s y su página no volvió por la VIP.`,
        `${victim}'s web server seems to be still stopped! Nobody confirmed starting it again within ${seconds} s and its page did not come back through the VIP.`,
      ),
      text(`Arranque de nuevo el servidor web de ${victim} ${guided.startHint.es} y repita la comprobación.`, `Start ${victim}'s web server again ${guided.startHint.en} and run the check again.`),
      evidence,
    );
  }
  if (!guided.stopConfirmed) {
    return inconclusive(
      text(
        `Nadie confirmó en ${seconds} s que el servidor web de ${victim} estuviera parado, así que no se midió la conmutación.`,
        `Nobody confirmed within ${seconds} s that ${victim}'s web server was stopped, so failover was not measured.`,
      ),
      text(
        "Repita con --interactive y pulse Intro en cuanto lo haya parado, o dé acceso SSH a ese servidor en la especificación.",
        "Run again with --interactive and press Enter as soon as it is stopped, or give SSH access to that server in the spec.",
      ),
      evidence,
    );
  }
  return m.victimStillAnswering ? onePageTwoServers(victim, evidence) : undefined;
}

/** The victim's page outlived its server: one machine serves both pages (with SSH or guided). */
function onePageTwoServers(victim: string, evidence: Evidence[]): Verdict {
  return fail(
    text(
      `Con el servidor web de ${victim} parado, su página sigue llegando por la VIP: ambas páginas salen de un mismo servidor.`,
      `With ${victim}'s web server stopped, its page still comes through the VIP: both pages come from one server.`,
    ),
    text("Cada miembro del balanceador debe ser un servidor web distinto, con su propia página.", "Each member of the balancer must be a different web server, with its own page."),
    evidence,
  );
}
