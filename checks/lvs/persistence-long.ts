import { defineCheck, ev, fail, inconclusive, pass, text } from "../../src/runner/check.js";
import type { Evidence, Verdict } from "../../src/model/index.js";
import {
  TEMPLATE_EXTRA_BOUND_SECONDS,
  connectFrom,
  idleWatching,
  now,
  pollStepMs,
  readTemplates,
  reading,
  round1,
  untilTemplateGone,
  type BoundClient,
  type TemplateReading,
} from "./binding.js";
import { readVipService, serviceNames, unresolvedVipText, vipTemplates, vipUnresolved } from "./ipvs.js";

/** "Most of the timeout": the binding must still hold this far into it. */
const HOLD_FRACTION = 0.8;
/** The check's own deadline; a timeout that needs longer is not waited for. */
const DEADLINE_MS = 3 * 3600_000;

/**
 * Part 1, persistence step, by really waiting (opt-in: --long). Two spare client addresses each
 * make one connection and are then left idle (no traffic from them; the check runs after the
 * sampling checks, alone, so none refreshes them). At 80 % of the timeout the first one connects
 * again and must reach the same server, its ASSURED template still there; the second one is
 * never touched again and its template must stay until the timeout and then disappear: the time
 * it took, and how much longer than the timeout the kernel kept it, are measured and reported.
 */
export default defineCheck({
  id: "lvs.persistence-long",
  part: "lvs",
  title: text("Persistencia durante todo el tiempo de sesión (espera real)", "Persistence over the whole session time (real wait)"),
  points: 2,
  needs: ["http", "ssh", "long"],
  dependsOn: ["net.vip-http"],
  usesVip: true,
  timeoutMs: DEADLINE_MS,
  async run(ctx) {
    const expected = ctx.spec.expect.persistenceTimeout;
    if (!ctx.options.long) {
      return notRequested(
        text(
          `Comprobación larga: espera de verdad el tiempo de persistencia (${expected} s); se ejecuta solo con --long; no cuenta en la nota.`,
          `Long check: it really waits out the persistence timeout (${expected} s); it runs only with --long; it does not count in the score.`,
        ),
      );
    }
    if (expected === 0) return notRequested(text("Este paso no pide persistencia.", "This step asks for no persistence."));
    const boundMs = (expected * (1 + HOLD_FRACTION) + TEMPLATE_EXTRA_BOUND_SECONDS) * 1000;
    if (boundMs > DEADLINE_MS - 60_000) {
      return inconclusive(
        text(`Esperar ${expected} s de persistencia supera el plazo de esta comprobación (${DEADLINE_MS / 3600_000} h).`, `Waiting out ${expected} s of persistence exceeds this check's deadline (${DEADLINE_MS / 3600_000} h).`),
        text("Compruebe la persistencia con lvs.persistence (plantilla de ipvsadm -Lnc).", "Judge persistence with lvs.persistence (the ipvsadm -Lnc template)."),
      );
    }
    const fixTimeout = text(`En el virtual_server: persistence_timeout ${expected}; recargue keepalived.`, `In the virtual_server: persistence_timeout ${expected}; reload keepalived.`);
    const view = await readVipService(ctx);
    if (vipUnresolved(view.vip)) {
      const { message, fix } = unresolvedVipText(ctx.spec, view.vip, serviceNames(view.table));
      return inconclusive(message, fix);
    }
    const persistent = view.service?.persistent;
    const evidence: Evidence[] = [];
    const record = ev.persistenceLong({ expectedSeconds: expected, tablePersistent: persistent ?? null });
    evidence.push(record);
    if (!view.service || persistent === undefined) {
      const seen = view.service ? { es: view.service.text.trim(), en: view.service.text.trim() } : { es: "sin servicio virtual en la VIP", en: "no virtual service on the VIP" };
      return fail(
        text(`ipvsadm -Ln no muestra persistent (${seen.es}): ningún cliente queda ligado a un servidor, no hay nada que esperar.`, `ipvsadm -Ln shows no persistent (${seen.en}): no client is bound to a server, there is nothing to wait for.`),
        fixTimeout,
        evidence,
      );
    }

    // Spare addresses from the end of the list (other checks start at the front), without a template.
    const templates = (await vipTemplates(ctx)) ?? [];
    const pinned = new Set(templates.map((t) => t.source.address));
    const spare = [...ctx.spec.grader.sourceAddresses].reverse().filter((a) => !pinned.has(a));
    const chosen: (string | undefined)[] = spare.length >= 2 ? spare.slice(0, 2) : [spare[0]];
    const clients: BoundClient[] = [];
    for (const address of chosen) {
      const bound = await connectFrom(ctx, address, `bind ${address ?? "grader"}`);
      if (!bound) {
        return inconclusive(
          text(`La VIP no respondió a la conexión desde ${address ?? "el evaluador"}.`, `The VIP did not answer the connection from ${address ?? "the grader"}.`),
          text("Compruebe que la VIP responde (net.vip-http) y repita.", "Check the VIP answers (net.vip-http) and run again."),
          evidence,
        );
      }
      clients.push({ address: bound.address, server: bound.server, boundAt: bound.at });
    }
    const held = clients[0]!;
    const idle = clients[clients.length - 1]!;
    record.clients = clients.map((c) => ({ address: c.address, server: c.server }));
    const start = await readTemplates(ctx, clients);
    record.atBind = clients.map((c) => reading(c, start?.get(c.address)));
    const missing = clients.find((c) => start && !start.get(c.address));
    if (missing) {
      return fail(
        text(`Tras conectar desde ${missing.address}, ipvsadm -Lnc no muestra su plantilla (puerto de cliente 0).`, `After a connection from ${missing.address}, ipvsadm -Lnc shows no template for it (client port 0).`),
        fixTimeout,
        evidence,
      );
    }

    // Idle for most of the timeout: the table is read, no packet comes from the clients.
    const log: TemplateReading[] = [];
    record.idleReadings = log;
    const holdAt = held.boundAt + expected * HOLD_FRACTION * 1000;
    const early = await idleWatching(ctx, clients, holdAt, pollStepMs(expected), log);
    if (early.lost) return lostEarly(early.lost, expected, persistent, log, fixTimeout, evidence);

    const probeReading = await readTemplates(ctx, [held]);
    const again = await connectFrom(ctx, held.address, `after ${Math.round(expected * HOLD_FRACTION)} s idle`);
    const heldIdle = round1(((again?.at ?? now()) - held.boundAt) / 1000);
    record.holdProbe = { address: held.address, idleSeconds: heldIdle, server: again?.server ?? null, template: probeReading ? reading(held, probeReading.get(held.address)) : null };
    if (!again) {
      return inconclusive(
        text(`La VIP no respondió a la conexión desde ${held.address} tras ${heldIdle} s.`, `The VIP did not answer the connection from ${held.address} after ${heldIdle} s.`),
        text("Compruebe que la VIP responde y repita con --long.", "Check the VIP answers and run again with --long."),
        evidence,
      );
    }
    if (again.server !== held.server) {
      return fail(
        text(
          `Tras ${heldIdle} s sin tráfico (de ${expected} s), una conexión nueva desde ${held.address} llegó a ${again.server}, no a ${held.server}: la sesión no se mantuvo.`,
          `After ${heldIdle} s without traffic (of ${expected} s), a new connection from ${held.address} reached ${again.server}, not ${held.server}: the session was not kept.`,
        ),
        fixTimeout,
        evidence,
      );
    }
    // With one spare address the probe has just refreshed it: its idle time starts again.
    if (idle === held) idle.boundAt = again.at;

    // Past the timeout: the template must go, after at most the kernel's extra lifetime.
    const timeoutAt = idle.boundAt + expected * 1000;
    const late = await idleWatching(ctx, [idle], timeoutAt, pollStepMs(expected), log);
    if (late.lost) return lostEarly(late.lost, expected, persistent, log, fixTimeout, evidence);
    const gone = await untilTemplateGone(ctx, idle, timeoutAt + TEMPLATE_EXTRA_BOUND_SECONDS * 1000, pollStepMs(expected), log);
    if (gone.goneAt === undefined) {
      const after = round1((now() - idle.boundAt) / 1000);
      if (persistent > expected) {
        return fail(
          text(
            `La plantilla de ${idle.address} sigue en ipvsadm -Lnc tras ${after} s sin tráfico: persistent ${persistent} es más largo que los ${expected} s pedidos.`,
            `The template of ${idle.address} is still in ipvsadm -Lnc after ${after} s without traffic: persistent ${persistent} is longer than the ${expected} s asked for.`,
          ),
          fixTimeout,
          evidence,
        );
      }
      return inconclusive(
        text(
          `La plantilla de ${idle.address} sigue en ipvsadm -Lnc tras ${after} s sin tráfico (tiempo ${expected} s + ${TEMPLATE_EXTRA_BOUND_SECONDS} s de margen): otro cliente con esa dirección la renueva.`,
          `The template of ${idle.address} is still in ipvsadm -Lnc after ${after} s without traffic (timeout ${expected} s + ${TEMPLATE_EXTRA_BOUND_SECONDS} s of margin): another client with that address keeps refreshing it.`,
        ),
        text("Use en grader.sourceAddresses direcciones que nadie más use y repita con --long.", "Use addresses nobody else uses in grader.sourceAddresses and run again with --long."),
        evidence,
      );
    }
    const lastPresent = [...log].reverse().find((r) => r.present && r.address === idle.address);
    const goneAfter = round1((gone.goneAt - idle.boundAt) / 1000);
    const extra = round1(Math.max(0, goneAfter - expected));
    record.idleClient = { address: idle.address, goneAfterSeconds: goneAfter, lastSeenSeconds: lastPresent?.idleSeconds ?? null, extraSeconds: extra };
    const tableNote = persistent !== expected
      ? { es: ` (ipvsadm -Ln muestra persistent ${persistent}, no ${expected}: lvs.persistence lo señala)`, en: ` (ipvsadm -Ln shows persistent ${persistent}, not ${expected}: lvs.persistence reports it)` }
      : { es: "", en: "" };
    return pass(
      text(
        `Tras ${heldIdle} s sin tráfico, ${held.address} seguía ligado a ${held.server} (misma respuesta y plantilla ASSURED presente); la plantilla de ${idle.address} desapareció ${goneAfter} s después de su última conexión: el tiempo de ${expected} s más ${extra} s que el núcleo la mantiene mientras sus conexiones en TIME_WAIT la usan${tableNote.es}.`,
        `After ${heldIdle} s without traffic, ${held.address} was still bound to ${held.server} (same answer, ASSURED template present); the template of ${idle.address} was gone ${goneAfter} s after its last connection: the ${expected} s timeout plus ${extra} s the kernel keeps it while its TIME_WAIT connections refer to it${tableNote.en}.`,
      ),
      evidence,
    );
  },
});

function notRequested(message: Verdict["message"]): Verdict {
  return { outcome: "skipped", message, evidence: [], notRequested: true };
}

function lostEarly(client: BoundClient, expected: number, persistent: number, log: TemplateReading[], fix: Verdict["message"], evidence: Evidence[]): Verdict {
  const mine = log.filter((r) => r.address === client.address);
  const last = [...mine].reverse().find((r) => r.present);
  const gone = mine[mine.length - 1]?.idleSeconds ?? 0;
  const between = last ? `${last.idleSeconds}–${gone}` : `≤ ${gone}`;
  const table = persistent !== expected ? { es: ` ipvsadm -Ln muestra persistent ${persistent}.`, en: ` ipvsadm -Ln shows persistent ${persistent}.` } : { es: "", en: "" };
  return fail(
    text(
      `La plantilla de ${client.address} (ligado a ${client.server}) desapareció tras ${between} s sin tráfico, antes de los ${expected} s pedidos: la sesión no dura lo que pide el enunciado.${table.es}`,
      `The template of ${client.address} (bound to ${client.server}) was gone after ${between} s without traffic, before the ${expected} s asked for: the session does not last as long as the lab asks.${table.en}`,
    ),
    fix,
    evidence,
  );
}
