import { defineCheck, ev, fail, inconclusive, pass, text } from "../../src/runner/check.js";
import { countLabels, sampleEvidence } from "../../src/runner/evidence.js";
import type { RequestRecord } from "../../src/probe/index.js";
import type { Evidence, Text } from "../../src/model/index.js";
import { freshSourceAddresses, optionalVipService, ownTemplate, vipTemplates } from "./ipvs.js";

/** New connections from the grader's own address: with persistence all reach one server. */
const ONE_CLIENT_CONNECTIONS = 6;
/** Other client addresses tried until both servers are seen (rr spreads fresh clients at once). */
const OTHER_CLIENTS = 12;
/**
 * A template counts down from the timeout once its last connection ends, and TIME_WAIT
 * connections keep it up to ~2 minutes longer (LAB-FACTS): "close" allows for both.
 */
const TEMPLATE_SLACK_SECONDS = 130;

/**
 * Part 1, persistence step: (a) ipvsadm -Ln shows `persistent <timeout>`; (b) every new
 * connection from one client reaches one server while other clients are spread over both;
 * (c) right after a connection, ipvsadm -Lnc holds the client's template (client port 0)
 * counting down from about the timeout. Expected 0: persistence must be off.
 *
 * Persistence on with another timeout than the expected one fails with half the points (the
 * pinning works, the timeout is not the one asked for); lvs.persistence-long judges the
 * duration by waiting.
 * A template that disagrees with the table is reported but not penalised: a reload keeps the
 * templates made before it with their old countdown.
 */
export default defineCheck({
  id: "lvs.persistence",
  part: "lvs",
  title: text("Persistencia de conexiones", "Connection persistence"),
  points: 2,
  needs: ["http", "ssh-if-given"],
  dependsOn: ["net.vip-http"],
  usesVip: true,
  async run(ctx) {
    const expected = ctx.spec.expect.persistenceTimeout;
    const view = await optionalVipService(ctx);
    const persistent = view?.service?.persistent;
    const evidence: Evidence[] = view?.service ? [ev.ipvsService({ service: view.service.text.trim(), persistent: persistent ?? null })] : [];
    const one = await ctx.http.sample({ mode: "new-connection", maxRequests: ONE_CLIENT_CONNECTIONS, label: "one client" });
    evidence.push(sampleEvidence("one client", "new-connection", one.records));
    const oneCounts = countLabels(one.records);
    const oneSeen = ctx.spec.backends.map((b) => b.name).filter((n) => oneCounts[n]);
    const oneList = Object.entries(oneCounts).map(([k, v]) => `${k}: ${v}`).join(", ");

    if (expected === 0) {
      if (persistent !== undefined) {
        return fail(
          text(`ipvsadm -Ln muestra persistent ${persistent}; en este paso no se espera persistencia.`, `ipvsadm -Ln shows persistent ${persistent}; this step expects no persistence.`),
          text("Quite la línea persistence_timeout del virtual_server y recargue keepalived.", "Remove the persistence_timeout line from the virtual_server and reload keepalived."),
          evidence,
        );
      }
      if (view?.service) return pass(text("Sin persistencia, como se espera (ipvsadm -Ln no muestra persistent).", "No persistence, as expected (ipvsadm -Ln shows no persistent)."), evidence);
      if (oneSeen.length > 1) return pass(text(`Sin persistencia: un cliente llega a varios servidores (${oneList}).`, `No persistence: one client reaches several servers (${oneList}).`), evidence);
      return inconclusive(
        text(`Las ${one.records.length} conexiones de un cliente llegan a un solo servidor (${oneList}): persistencia, o un solo servidor activo.`, `The ${one.records.length} connections of one client reach a single server (${oneList}): persistence, or a single live server.`),
        text("Dé acceso SSH al balanceador para leer ipvsadm -Ln.", "Give SSH access to the balancer to read ipvsadm -Ln."),
        evidence,
      );
    }

    const fixTimeout = text(
      `En el virtual_server: persistence_timeout ${expected}; recargue keepalived.`,
      `In the virtual_server: persistence_timeout ${expected}; reload keepalived.`,
    );
    if (view?.service && persistent === undefined) {
      return fail(
        text(
          `ipvsadm -Ln no muestra persistent (${view.service.text.trim()}); se espera persistent ${expected}. Un cliente llega a: ${oneList}.`,
          `ipvsadm -Ln shows no persistent (${view.service.text.trim()}); expected persistent ${expected}. One client reaches: ${oneList}.`,
        ),
        fixTimeout,
        evidence,
      );
    }
    if (oneSeen.length !== 1) {
      return fail(
        text(`Las conexiones nuevas de un mismo cliente van a distintos servidores (${oneList}).`, `New connections of one client reach different servers (${oneList}).`),
        fixTimeout,
        evidence,
      );
    }

    // (b) other clients are still balanced: persistence pins clients, it does not disable balancing.
    const others: RequestRecord[] = [];
    const seen = new Set(oneSeen);
    const addresses = (await freshSourceAddresses(ctx)).slice(0, OTHER_CLIENTS);
    for (const address of addresses) {
      if (seen.size >= ctx.spec.backends.length) break;
      const s = await ctx.http.sample({ mode: "new-connection", maxRequests: 1, localAddress: address, label: `client ${address}` });
      for (const r of s.records) {
        others.push(r);
        if (r.backend) seen.add(r.backend);
      }
    }
    if (others.length) evidence.push(sampleEvidence("other clients", "new-connection", others));
    const spread = addresses.length === 0 ? undefined : seen.size >= ctx.spec.backends.length;
    if (spread === false) {
      const list = Object.entries(countLabels(others)).map(([k, v]) => `${k}: ${v}`).join(", ");
      return fail(
        text(`${others.length} clientes distintos llegan todos a ${[...seen].join(", ")} (${list}): no se reparte entre clientes.`, `${others.length} different clients all reach ${[...seen].join(", ")} (${list}): clients are not spread.`),
        text("Compruebe que los dos real_server están en el virtual_server y pasan su chequeo, con lb_algo rr o wrr.", "Check both real_server blocks are in the virtual_server and pass their health check, with lb_algo rr or wrr."),
        evidence,
      );
    }

    // (c) the client's template, right after its connections.
    const templates = await vipTemplates(ctx);
    // The client as the balancer knows it: this machine's address, or behind a port forward the
    // translator's (the balancer's sshd sees it too).
    const own = templates ? await ownTemplate(ctx, templates, one.records.find((r) => r.localAddress)?.localAddress) : undefined;
    const grader = own?.client ?? one.records.find((r) => r.localAddress)?.localAddress;
    const mine = own?.template;
    if (templates) evidence.push(ev.persistenceTemplate({ client: grader ?? null, template: mine?.text.trim() ?? null, remainingSeconds: mine?.expireSeconds ?? null }));
    const configured = persistent ?? expected;
    const templateNote: Text = !templates
      ? { es: "", en: "" }
      : mine
        ? Math.abs(mine.expireSeconds - configured) <= TEMPLATE_SLACK_SECONDS
          ? { es: ` Plantilla ASSURED de ${grader}: quedan ${mine.expireSeconds} s.`, en: ` ASSURED template of ${grader}: ${mine.expireSeconds} s left.` }
          : {
              es: ` La plantilla de ${grader} cuenta desde ${mine.expireSeconds} s, no desde ${configured} s (¿hecha antes de recargar keepalived?).`,
              en: ` The template of ${grader} counts down from ${mine.expireSeconds} s, not ${configured} s (made before keepalived was reloaded?).`,
            }
        : { es: ` ipvsadm -Lnc no muestra plantilla para ${grader ?? "este cliente"}.`, en: ` ipvsadm -Lnc shows no template for ${grader ?? "this client"}.` };
    const spreadNote: Text = spread
      ? { es: " Otros clientes se reparten entre los servidores.", en: " Other clients are spread over the servers." }
      : { es: " (Sin grader.sourceAddresses no se comprueba el reparto entre clientes.)", en: " (Without grader.sourceAddresses the spread over clients is not checked.)" };
    const pinned = { es: `Un cliente siempre llega a ${oneSeen[0]} (${one.records.length} conexiones).`, en: `One client always reaches ${oneSeen[0]} (${one.records.length} connections).` };

    if (persistent !== undefined && persistent !== expected) {
      return fail(
        text(
          `ipvsadm -Ln muestra persistent ${persistent}; se espera ${expected}. La mitad de los puntos es por lo que sí funciona: ${pinned.es}${templateNote.es}`,
          `ipvsadm -Ln shows persistent ${persistent}; expected ${expected}. Half the points are for what does work: ${pinned.en}${templateNote.en}`,
        ),
        fixTimeout,
        evidence,
        { credit: 0.5 },
      );
    }
    const tableNote: Text = persistent !== undefined ? { es: ` ipvsadm -Ln: persistent ${persistent}.`, en: ` ipvsadm -Ln: persistent ${persistent}.` } : { es: "", en: "" };
    return pass(text(`${pinned.es}${tableNote.es}${spreadNote.es}${templateNote.es}`, `${pinned.en}${tableNote.en}${spreadNote.en}${templateNote.en}`), evidence);
  },
});
