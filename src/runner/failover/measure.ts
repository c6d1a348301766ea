/**
 * A failover over SSH: hagrade stops the victim's web server itself (journaled first, undone in
 * all cases and verified), watches the VIP while it is down and after it is started again, and
 * measures what happened.
 */
import type { Backend } from "../../config/schema.js";
import { RestoreStepError, SshError, shQuote, withRestore } from "../../ssh/index.js";
import { remote } from "../check.js";
import { progressText, type CheckContext } from "../context.js";
import { fetchPageCommand } from "../pages.js";
import type { Text } from "../types.js";
import { failoverByPerson, measureGuidedFailover } from "./guided.js";
import type { FailoverMeasure, FailoverOptions } from "./types.js";
import { CHEAT_WINDOW_MS, pollWithBackoff, settledWithout, TrafficWatch } from "./watch.js";

/** Default commands: systemd where it runs, else SysV `service`, else apachectl (Debian and RHEL names). */
export const DEFAULT_STOP =
  "if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then systemctl stop apache2 2>/dev/null || systemctl stop httpd; " +
  "elif command -v service >/dev/null 2>&1; then service apache2 stop 2>/dev/null || service httpd stop; " +
  "else apache2ctl graceful-stop 2>/dev/null || apachectl graceful-stop; fi";
export const DEFAULT_START =
  "if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then systemctl start apache2 2>/dev/null || systemctl start httpd; " +
  "elif command -v service >/dev/null 2>&1; then service apache2 start 2>/dev/null || service httpd start; " +
  "else apache2ctl start 2>/dev/null || apachectl start; fi";

/** Bound on the stop and start commands themselves. */
const STOP_START_TIMEOUT_MS = 30_000;

/**
 * Stops the web server `victim` over SSH (journaled first, undone in all cases and verified),
 * watches the VIP while it is down and, unless `measureRejoin` is false, until the balancer sends
 * it traffic again, and measures what happened.
 */
export async function measureFailover(ctx: CheckContext, victim: Backend, options: FailoverOptions): Promise<FailoverMeasure> {
  if (await failoverByPerson(ctx, victim)) return measureGuidedFailover(ctx, victim, options);
  const ssh = remote(ctx);
  const page = await ssh.exec(victim.name, fetchPageCommand("127.0.0.1", victim.port, ctx.spec.vip.path), { timeoutMs: 10_000 });
  const literal = identityText(ctx, victim, page.stdout);
  const verify = literal
    ? `${fetchPageCommand("127.0.0.1", victim.port, ctx.spec.vip.path)} | grep -qF -- ${shQuote(literal)}`
    : fetchPageCommand("127.0.0.1", victim.port, ctx.spec.vip.path);
  const watch = new TrafficWatch(ctx, options.clients, TrafficWatch.tickFor(ctx, options.clients.length)).start();
  const survivors = ctx.spec.backends.filter((b) => b.name !== victim.name).map((b) => b.name);
  const failoverMs = ctx.spec.timeouts.failover;
  let stoppedAt: number | undefined;
  let settledAt: number | undefined;
  let victimStillAnswering = false;
  let restoringAt: number | undefined;
  const rejoinMs = ctx.spec.timeouts.rejoin;
  const waitingForRejoin = (elapsed: number) => ctx.progress(progressText.waitingForRejoin(victim.name, elapsed, rejoinMs));
  try {
    // A baseline: the victim must be serving through the VIP before it is stopped (a member
    // that failed recently stays out for Apache's `retry`, 60 s by default).
    ctx.progress(progressText.waitingForService(victim.name));
    if (!(await watch.inService(victim.name, survivors, ctx.spec.timeouts.rejoin))) {
      await watch.stop();
      return {
        victim: victim.name,
        survivors,
        clockStartedAt: watch.startedAt,
        failedRequests: 0,
        victimStillAnswering: false,
        victimNotInService: true,
        rejoinMeasured: false,
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
        const settled = await watch.until(
          (m) => settledWithout(m, victim.name, options.clients.length, stoppedAt!) && (options.waitFor?.(m, stoppedAt!) ?? true),
          failoverMs,
          (elapsed) => ctx.progress(progressText.waitingForFailover(elapsed, failoverMs)),
        );
        if (settled) settledAt = watch.now();
        await options.duringOutage?.();
        const lastVictim = watch.marks.filter((x) => x.t >= stoppedAt! && x.label === victim.name).pop();
        victimStillAnswering = lastVictim !== undefined && lastVictim.t - stopReturnedAt > CHEAT_WINDOW_MS;
        restoringAt = watch.now();
        watch.event("restoring");
      },
    );
    const startedAt = watch.now();
    watch.event(outcome.restore.restored ? "started (verified)" : "start attempted");
    let rejoined = false;
    const outage = watch.marks.filter((x) => x.t >= stoppedAt! && x.t <= (restoringAt ?? startedAt));
    // The restore is verified on the victim itself; its return to the balancer is waited for only when asked.
    const rejoinMeasured = (options.measureRejoin ?? true) && outcome.restore.restored && !victimStillAnswering && (options.outageOk?.(outage) ?? true);
    if (rejoinMeasured) {
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
      clockStartedAt: watch.startedAt,
      ...(stoppedAt !== undefined ? { stoppedAt } : {}),
      startedAt,
      outageEnd,
      ...(settledAt !== undefined ? { settledAt } : {}),
      ...(stoppedAt !== undefined ? { detectMs: lastVictim ? lastVictim.t - stoppedAt : 0 } : {}),
      failedRequests: transition.filter((x) => x.label.startsWith("error:")).length,
      victimStillAnswering,
      rejoinMeasured,
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

function describeFailure(error: unknown): { kind: string; text: Text } {
  if (error instanceof RestoreStepError) return { kind: error.kind, text: error.text };
  if (error instanceof SshError) return { kind: `ssh-${error.kind}`, text: { es: error.message, en: error.message } };
  const message = error instanceof Error ? error.message : String(error);
  return { kind: "error", text: { es: message, en: message } };
}

/** The identity text exactly as the page shows it ("Bienvenido a webserver1"), for a literal grep. */
function identityText(ctx: CheckContext, victim: Backend, body: string): string | undefined {
  const re = new RegExp(victim.match ?? ctx.spec.identity.pattern, ctx.spec.identity.flags);
  const m = re.exec(body.slice(0, 65536));
  // It goes into a command run as root: printable text of one line only, then quoted.
  // eslint-disable-next-line no-control-regex
  return m?.[0] && m[0].length <= 200 && !/[\u0000-\u001f\u007f]/.test(m[0]) ? m[0] : undefined;
}
