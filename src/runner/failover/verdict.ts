/** The verdicts every failover check shares, with SSH or guided. */
import { fail, graderError, inconclusive, text } from "../check.js";
import type { Evidence, Text, Verdict } from "../types.js";
import { PERSON_BOUND_MS } from "./guided.js";
import type { FailoverMeasure } from "./types.js";

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
