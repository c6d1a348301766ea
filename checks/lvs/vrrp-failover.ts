import { defineCheck, ev, fail, graderError, inconclusive, pass, text } from "../../src/runner/check.js";
import { progressText } from "../../src/runner/context.js";
import { TrafficWatch, type Mark } from "../../src/runner/failover.js";
import type { Evidence, Verdict } from "../../src/model/index.js";
import { RestoreStepError, shQuote, withRestore, type RestoreOutcome } from "../../src/ssh/index.js";
import { sleep } from "./binding.js";
import { optionalVipService, labVipOf, serviceNames, unresolvedVipText, vipUnresolved } from "./ipvs.js";

/** Consecutive answered requests that count as "the VIP serves again". */
const SETTLED_ANSWERS = 10;
const STOP_KEEPALIVED =
  "if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then systemctl stop keepalived; else service keepalived stop; fi";
const START_KEEPALIVED =
  "if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then systemctl start keepalived; else service keepalived start; fi";

/**
 * Two directors sharing the VIP by VRRP (spec balancer.backup): keepalived is stopped on the
 * MASTER (journaled; started again in all cases, verified by the MASTER holding the VIP again),
 * the BACKUP must take the VIP and keep serving both web servers. The outage and the requests
 * lost in it are measured. VRRP adverts every second and a takeover after ~3 missed ones took
 * 3.8 s in the reference lab (3 failed requests), within timeouts.failover.
 */
export default defineCheck({
  id: "lvs.vrrp-failover",
  part: "lvs",
  title: text("Conmutación del director por VRRP (MASTER → BACKUP)", "Director failover by VRRP (MASTER → BACKUP)"),
  points: 2,
  needs: ["http", "ssh", "disruptive"],
  dependsOn: ["net.vip-http"],
  usesVip: true,
  timeoutMs: 240_000,
  async run(ctx) {
    const backup = ctx.spec.balancer.backup;
    if (!backup) {
      return { outcome: "skipped", notRequested: true, evidence: [], message: text("La especificación nombra un solo director (sin balancer.backup).", "The spec names a single director (no balancer.backup).") };
    }
    // The VIP as the directors hold it (behind a port forward, not the address HTTP goes to).
    const view = await optionalVipService(ctx);
    const held = view?.vip ?? labVipOf(ctx.spec, undefined);
    if (vipUnresolved(held)) {
      const { message, fix } = unresolvedVipText(ctx.spec, held, view ? serviceNames(view.table) : []);
      return inconclusive(message, fix);
    }
    const vip = held.address;
    const master = ctx.spec.balancer.ssh?.host ?? ctx.spec.balancer.serviceAddress ?? vip;
    if (master === vip) {
      return inconclusive(
        text("El acceso SSH al balanceador va a la VIP, que cambia de director en esta prueba.", "SSH to the balancer goes to the VIP, which moves to the other director in this test."),
        text("Ponga en balancer.ssh.host (o balancer.serviceAddress) la dirección propia del director MASTER.", "Set balancer.ssh.host (or balancer.serviceAddress) to the MASTER director's own address."),
      );
    }
    const ssh = ctx.ssh!;
    const holdsVip = `ip -4 -o addr show | grep -qF -- ${shQuote(` ${vip}/`)}`;
    const holds = async () => (await ssh.exec("balancer", holdsVip)).code === 0;
    if (!(await holds())) {
      return fail(
        text(`El director ${master} (balancer) no tiene la VIP ${vip}: no es el MASTER.`, `The director ${master} (balancer) does not hold the VIP ${vip}: it is not the MASTER.`),
        text(
          `En el keepalived.conf de ${master}: vrrp_instance con state MASTER y una priority mayor que la del BACKUP ${backup.serviceAddress}, y ${vip} en virtual_ipaddress.`,
          `In ${master}'s keepalived.conf: a vrrp_instance with state MASTER, a priority above the BACKUP ${backup.serviceAddress}'s, and ${vip} in virtual_ipaddress.`,
        ),
      );
    }

    const tickMs = Math.max(100, Math.ceil(1000 / ctx.spec.sampling.ratePerSecond));
    const watch = new TrafficWatch(ctx, [{ name: "grader" }], tickMs).start();
    const failoverMs = ctx.spec.timeouts.failover;
    let stoppedAt = 0;
    let releasedAt: number | undefined;
    let servedAgainAt: number | undefined;
    let masterReleased: boolean | undefined;
    const answered = (x: Mark) => !x.label.startsWith("error:");
    /** The first of SETTLED_ANSWERS answered requests in a row sent after `from`. */
    const servingAgain = (m: Mark[], from: number) => {
      const after = m.filter((x) => x.t >= from);
      const i = after.findIndex((_, k) => after.length - k >= SETTLED_ANSWERS && after.slice(k, k + SETTLED_ANSWERS).every(answered));
      return i < 0 ? undefined : after[i];
    };
    let outcome!: RestoreOutcome<void>;
    try {
      await watch.until((m) => m.length >= 3, 10_000);
      stoppedAt = watch.now();
      watch.event("stop keepalived on the MASTER");
      outcome = await withRestore(
        { journal: ctx.journal(), pool: ssh.pool },
        {
          host: "balancer",
          description: { es: `Parar keepalived en el director MASTER ${master} para comprobar el paso de la VIP al BACKUP`, en: `Stop keepalived on the MASTER director ${master} to check the VIP moves to the BACKUP` },
          before: "pidof keepalived",
          change: STOP_KEEPALIVED,
          undo: START_KEEPALIVED,
          // VRRP preempts by default: the MASTER takes the VIP back a few adverts after it starts.
          verify: `pidof keepalived >/dev/null && ${holdsVip}`,
          verifyAttempts: 10,
          timeoutMs: failoverMs + 15_000,
        },
        async (signal) => {
          watch.event("stopped");
          // Only once the MASTER has given up the VIP does an answer prove the BACKUP serves it.
          const begin = performance.now();
          const deadline = begin + failoverMs;
          const waiting = () => ctx.progress(progressText.waitingForFailover(performance.now() - begin, failoverMs));
          while (performance.now() < deadline && (await holds())) {
            waiting();
            await sleep(300, signal);
          }
          masterReleased = !(await holds());
          if (!masterReleased) return watch.event("restoring");
          releasedAt = watch.now();
          watch.event("MASTER released the VIP");
          await watch.until((m) => servingAgain(m, releasedAt!) !== undefined, failoverMs, waiting);
          servedAgainAt = servingAgain(watch.marks, releasedAt)?.t;
          watch.event("restoring");
          ctx.progress(progressText.waitingForVipBack(master));
        },
      );
      watch.event(outcome.restore.restored ? "started (verified)" : "start attempted");
      // A few answers after the MASTER is back: the VIP moved home without a lasting outage.
      if (outcome.restore.restored) await sleep(Math.min(3000, 10 * tickMs), ctx.signal);
    } finally {
      await watch.stop();
    }
    const restoringAt = watch.events.find((e) => e.what === "restoring")?.t ?? watch.now();
    const outage = watch.marks.filter((x) => x.t >= stoppedAt && x.t <= (servedAgainAt ?? restoringAt));
    const failed = outage.filter((x) => x.label.startsWith("error:")).length;
    const outageMs = servedAgainAt !== undefined ? servedAgainAt - stoppedAt : null;
    const evidence: Evidence[] = [
      ev.vrrpFailover({ master, backup: backup.serviceAddress, vip, masterReleased: masterReleased ?? null, outageMs, failedRequests: failed, events: watch.events, timeline: watch.marks }),
      ev.restore(outcome.restore),
    ];
    const shared = restoreVerdict(outcome, master, evidence);
    if (shared) return shared;
    const seenAfter = new Set(watch.marks.filter((x) => servedAgainAt !== undefined && x.t >= servedAgainAt && x.t <= restoringAt && answered(x)).map((x) => x.label));
    if (masterReleased === false) {
      return fail(
        text(`El MASTER ${master} sigue con la VIP tras parar keepalived: la VIP no la gestiona VRRP.`, `The MASTER ${master} still holds the VIP after keepalived stopped: the VIP is not managed by VRRP.`),
        text(`Quite ${vip} de la configuración de red de ${master} y póngala solo en virtual_ipaddress del vrrp_instance.`, `Remove ${vip} from ${master}'s network configuration and put it only in the vrrp_instance's virtual_ipaddress.`),
        evidence,
      );
    }
    if (servedAgainAt === undefined) {
      return fail(
        text(
          `Con keepalived parado en el MASTER ${master}, la VIP dejó de servir (${failed} peticiones fallidas en ${Math.round(failoverMs / 1000)} s): el BACKUP ${backup.serviceAddress} no la tomó.`,
          `With keepalived stopped on the MASTER ${master}, the VIP stopped serving (${failed} failed requests in ${Math.round(failoverMs / 1000)} s): the BACKUP ${backup.serviceAddress} did not take it.`,
        ),
        text(
          `En ${backup.serviceAddress}: keepalived en marcha con un vrrp_instance state BACKUP, el mismo virtual_router_id, una priority menor y ${vip} en virtual_ipaddress, y el mismo virtual_server.`,
          `On ${backup.serviceAddress}: keepalived running with a vrrp_instance state BACKUP, the same virtual_router_id, a lower priority and ${vip} in virtual_ipaddress, and the same virtual_server.`,
        ),
        evidence,
      );
    }
    const servers = [...seenAfter].filter((l) => ctx.spec.backends.some((b) => b.name === l));
    return pass(
      text(
        `Con keepalived parado en el MASTER ${master}, el BACKUP ${backup.serviceAddress} tomó la VIP: sirvió de nuevo a los ${((outageMs ?? 0) / 1000).toFixed(1)} s (${failed} peticiones fallidas), desde ${servers.join(", ")}; el MASTER volvió a tomarla al arrancarlo.`,
        `With keepalived stopped on the MASTER ${master}, the BACKUP ${backup.serviceAddress} took the VIP: it served again after ${((outageMs ?? 0) / 1000).toFixed(1)} s (${failed} failed requests), from ${servers.join(", ")}; the MASTER took it back once started.`,
      ),
      evidence,
    );
  },
});

function restoreVerdict(outcome: RestoreOutcome<void>, master: string, evidence: Evidence[]): Verdict | undefined {
  if (!outcome.restore.restored) {
    const todo = outcome.restore.leftToDo;
    return graderError(
      text(`¡keepalived no volvió a arrancar en ${master} con la VIP! Queda pendiente: ${todo ? todo.commands.join("; ") : "arrancarlo a mano"}.`, `keepalived did not start again on ${master} with the VIP! Left to do: ${todo ? todo.commands.join("; ") : "start it by hand"}.`),
      text(`Ejecute hagrade restore o arranque keepalived a mano en ${master}.`, `Run hagrade restore or start keepalived by hand on ${master}.`),
      evidence,
    );
  }
  if (outcome.error instanceof RestoreStepError && outcome.error.kind === "change-failed") {
    return inconclusive(
      text(`No se pudo parar keepalived en ${master}: ${outcome.error.text.es}`, `Could not stop keepalived on ${master}: ${outcome.error.text.en}`),
      text(`Compruebe que el usuario SSH puede usar sudo sin contraseña en ${master}.`, `Check that the SSH user may sudo without a password on ${master}.`),
      evidence,
    );
  }
  if (outcome.error !== undefined) {
    const said = outcome.error instanceof Error ? outcome.error.message : String(outcome.error);
    return graderError(
      text(`La medida se interrumpió (keepalived ya está arrancado de nuevo): ${said}`, `The measurement broke off (keepalived is running again): ${said}`),
      text("Vuelva a ejecutar la comprobación; si se repite, revise la conexión SSH con el laboratorio.", "Run the check again; if it happens again, check the SSH connection to the lab."),
      evidence,
    );
  }
  return undefined;
}
