/**
 * A failover with a person's hands, for a web server hagrade has no usable SSH to (with
 * --interactive): who does the stop and start, what the person is told, and the measure itself.
 */
import type { Backend } from "../../config/schema.js";
import { SshError } from "../../ssh/index.js";
import { skipped, text } from "../check.js";
import { progressText, type CheckContext } from "../context.js";
import type { Text, Verdict } from "../types.js";
import type { FailoverMeasure, FailoverOptions } from "./types.js";
import { CHEAT_WINDOW_MS, pollWithBackoff, SETTLED_ANSWERS, settledWithout, TrafficWatch } from "./watch.js";

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

/**
 * The same experiment with a person's hands: hagrade asks them to stop the victim's web server
 * and to press Enter, watches the VIP move to the survivors, asks them to start it again, and
 * watches it return. hagrade changes nothing itself, so there is nothing to journal; a server
 * the person never starts again is reported as still stopped.
 */
export async function measureGuidedFailover(ctx: CheckContext, victim: Backend, options: FailoverOptions): Promise<FailoverMeasure> {
  const prompter = ctx.options.prompter!;
  const hints = personHints(victim);
  const watch = new TrafficWatch(ctx, options.clients, TrafficWatch.tickFor(ctx, options.clients.length)).start();
  const survivors = ctx.spec.backends.filter((b) => b.name !== victim.name).map((b) => b.name);
  const base = { victim: victim.name, survivors, clockStartedAt: watch.startedAt, failedRequests: 0, victimStillAnswering: false, rejoinMeasured: false, rejoined: false } as const;
  const rejoinMs = ctx.spec.timeouts.rejoin;
  const waitingForRejoin = (elapsed: number) => ctx.progress(progressText.waitingForRejoin(victim.name, elapsed, rejoinMs));
  try {
    ctx.progress(progressText.waitingForService(victim.name));
    const inService = await watch.inService(victim.name, survivors, ctx.spec.timeouts.rejoin);
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
    const settled = await watch.until(
      (m) => settledWithout(m, victim.name, options.clients.length, confirmedAt) && (options.waitFor?.(m, stoppedAt) ?? true),
      ctx.spec.timeouts.failover,
      (elapsed) => ctx.progress(progressText.waitingForFailover(elapsed, ctx.spec.timeouts.failover)),
    );
    const settledAt = settled ? watch.now() : undefined;
    await options.duringOutage?.();
    const lastVictim = watch.marks.filter((x) => x.t >= confirmedAt && x.label === victim.name).pop();
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
    const rejoinMeasured =
      startAnswer !== "confirmed" || ((options.measureRejoin ?? true) && !victimStillAnswering && (options.outageOk?.(outage) ?? true));
    if (rejoinMeasured) {
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
      ...(settledAt !== undefined ? { settledAt } : {}),
      detectMs: lastInTransition ? lastInTransition.t - stoppedAt : 0,
      failedRequests: transition.filter((x) => x.label.startsWith("error:")).length,
      victimStillAnswering,
      rejoinMeasured,
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

