import { defineCheck, ev, fail, inconclusive, pass, text } from "../../src/runner/check.js";
import { findProcesses } from "../../src/inspect/index.js";
import { processesEvidence, readProcesses } from "../processes.js";
import { labVipNote, readVipService, realServersByBackend, serviceNames, unresolvedVipText, vipUnresolved } from "./ipvs.js";

/**
 * Part 1, step 2: keepalived runs and has built the virtual service: the VIP and port with
 * every web server as a NAT (Masq) real server. keepalived leaves out a real server whose
 * health check fails, so a missing one can be a missing block or a failing check.
 */
export default defineCheck({
  id: "lvs.virtual-server",
  part: "lvs",
  title: text("Servidor virtual de keepalived en IPVS", "keepalived's virtual server in IPVS"),
  points: 2,
  needs: ["ssh"],
  async run(ctx) {
    const listing = await readProcesses(ctx, "balancer");
    const keepalived = listing.ok ? findProcesses(listing.processes, "keepalived") : [];
    const view = await readVipService(ctx);
    const { vip } = view;
    const note = labVipNote(ctx.spec, vip);
    const rows = realServersByBackend(ctx.spec, view.service);
    const evidence = [
      processesEvidence(listing, "keepalived"),
      ev.ipvsService({
        ipvsLoaded: view.ipvsLoaded,
        service: view.service ? view.service.text.trim() : null,
        realServers: view.service?.realServers.map((s) => s.text.trim()) ?? [],
      }),
    ];
    const vs = `virtual_server ${vip.address} ${vip.port} {`;
    if (listing.ok && keepalived.length === 0) {
      return fail(
        text(
          `keepalived no se está ejecutando en el balanceador${view.service ? "" : " y IPVS no tiene el servicio de la VIP"}.`,
          `keepalived is not running on the balancer${view.service ? "" : " and IPVS has no service for the VIP"}.`,
        ),
        text(
          "Arránquelo: service keepalived start (o systemctl start keepalived); si no arranca, keepalived -t -f /etc/keepalived/keepalived.conf y el syslog dicen qué línea falla.",
          "Start it: service keepalived start (or systemctl start keepalived); if it does not start, keepalived -t -f /etc/keepalived/keepalived.conf and the syslog tell which line fails.",
        ),
        evidence,
      );
    }
    if (vipUnresolved(vip)) {
      const { message, fix } = unresolvedVipText(ctx.spec, vip, serviceNames(view.table));
      return inconclusive(message, fix, evidence);
    }
    if (!view.service) {
      const listed = serviceNames(view.table).join(", ");
      return fail(
        text(
          `ipvsadm -Ln no tiene el servicio ${vip.address}:${vip.port}${listed ? ` (tiene: ${listed})` : " (tabla vacía)"}.`,
          `ipvsadm -Ln has no service ${vip.address}:${vip.port}${listed ? ` (it has: ${listed})` : " (empty table)"}.`,
        ),
        text(
          `En keepalived.conf: ${vs} … protocol TCP … } y recargue keepalived.`,
          `In keepalived.conf: ${vs} … protocol TCP … } and reload keepalived.`,
        ),
        evidence,
      );
    }
    const missing = rows.filter((r) => !r.server).map((r) => r.backend);
    const notNat = rows.filter((r) => r.server && r.server.forward !== "Masq");
    if (missing.length === 0 && notNat.length === 0) {
      const list = rows.map((r) => `${r.backend.address}:${r.backend.port} Masq ${r.server?.weight ?? "?"}`).join(", ");
      if (!listing.ok) {
        return inconclusive(
          text(
            `IPVS tiene el servicio (TCP ${vip.address}:${vip.port} → ${list}), pero no se pudo saber si lo mantiene keepalived: ${listing.why.es}.`,
            `IPVS has the service (TCP ${vip.address}:${vip.port} → ${list}), but whether keepalived keeps it could not be told: ${listing.why.en}.`,
          ),
          text("Compruebe que el balanceador tiene ps (paquete procps) y que el usuario SSH puede ejecutarlo.", "Check the balancer has ps (the procps package) and the SSH user may run it."),
          evidence,
        );
      }
      return pass(text(`TCP ${vip.address}:${vip.port} ${view.service.scheduler ?? ""} → ${list}${note.es}.`, `TCP ${vip.address}:${vip.port} ${view.service.scheduler ?? ""} → ${list}${note.en}.`), evidence);
    }
    const problems = {
      es: [
        ...missing.map((b) => `${b.name} (${b.address}:${b.port}) no está en la tabla`),
        ...notNat.map((r) => `${r.backend.name} usa ${r.server?.forward ?? "?"} en lugar de Masq`),
      ],
      en: [
        ...missing.map((b) => `${b.name} (${b.address}:${b.port}) is not in the table`),
        ...notNat.map((r) => `${r.backend.name} uses ${r.server?.forward ?? "?"} instead of Masq`),
      ],
    };
    const fixes = {
      es: [
        ...missing.map((b) => `añada real_server ${b.address} ${b.port} { … } dentro de ${vs} y compruebe que su chequeo (TCP_CHECK/HTTP_GET) pasa: keepalived quita los servidores que lo fallan`),
        ...(notNat.length ? ["lb_kind NAT en el virtual_server"] : []),
      ],
      en: [
        ...missing.map((b) => `add real_server ${b.address} ${b.port} { … } inside ${vs} and check its health check (TCP_CHECK/HTTP_GET) passes: keepalived leaves out the servers that fail it`),
        ...(notNat.length ? ["lb_kind NAT in the virtual_server"] : []),
      ],
    };
    return fail(
      text(`Servicio ${vip.address}:${vip.port}${note.es}: ${problems.es.join("; ")}.`, `Service ${vip.address}:${vip.port}${note.en}: ${problems.en.join("; ")}.`),
      text(`${fixes.es.join("; ")}.`, `${fixes.en.join("; ")}.`),
      evidence,
    );
  },
});
