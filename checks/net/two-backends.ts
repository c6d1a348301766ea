import { defineCheck, ev, fail, inconclusive, pass, text } from "../../src/runner/check.js";
import { countLabels, sampleEvidence } from "../../src/runner/evidence.js";
import type { RequestRecord } from "../../src/probe/index.js";
import type { CheckContext } from "../../src/runner/context.js";
import { fetchPageCommand } from "../../src/runner/pages.js";
import { isSshError } from "../../src/ssh/index.js";
import { everyBackendWeighted, ipvsServiceEvidence, optionalVipService } from "../lvs/ipvs.js";

/**
 * Both web servers serve through the VIP. Sampled both ways: new connections (what LVS
 * balances) and one keep-alive connection (what Apache byrequests balances), so either
 * balancer shows both pages; the loop stops as soon as every backend was seen.
 * With 3:1 weights the chance that 40 requests never reach the 1-share server is
 * 0.75^40 ≈ 1e-5 per mode.
 *
 * Part 1 with persistence and one client address shows one server only, whatever the lab. With
 * SSH the check still decides: it passes when ipvsadm -Ln shows the service persistent, lists
 * every web server as a real server with weight > 0, and each one, asked from the balancer, serves its own page (the VIP
 * already served one of them); without SSH it is inconclusive.
 */
const PER_MODE = 40;
/**
 * Each sample gets a share of the check's 120 s, so a server that holds requests leaves the
 * evidence of what answered and what hung instead of a bare "did not finish".
 */
const MODE_DEADLINE_MS = 30_000;
const SOURCES_BUDGET_MS = 40_000;

export default defineCheck({
  id: "net.two-backends",
  part: "net",
  title: text("Los dos servidores web responden a través de la VIP", "Both web servers answer through the VIP"),
  points: 1,
  needs: ["http", "ssh-if-given"],
  dependsOn: ["net.vip-http"],
  usesVip: true,
  async run(ctx) {
    const expected = ctx.spec.backends.map((b) => b.name);
    const seen = new Set<string>();
    const allSeen = (r: RequestRecord) => {
      if (r.backend) seen.add(r.backend);
      return expected.every((n) => seen.has(n));
    };
    const evidence = [];
    const records: RequestRecord[] = [];
    for (const mode of ["new-connection", "keep-alive"] as const) {
      if (expected.every((n) => seen.has(n))) break;
      // Each mode within its share of the check's deadline, so a hanging server leaves evidence, not a timeout.
      const s = await ctx.http.sample({ mode, maxRequests: PER_MODE, shouldStop: (r) => allSeen(r), label: mode, deadlineMs: MODE_DEADLINE_MS });
      records.push(...s.records);
      evidence.push(sampleEvidence(mode, mode, s.records));
    }
    // Persistence pins one client address to one server: other source addresses are other clients.
    const sourcesUntil = performance.now() + SOURCES_BUDGET_MS;
    for (const address of ctx.spec.grader.sourceAddresses) {
      if (expected.every((n) => seen.has(n)) || performance.now() >= sourcesUntil) break;
      const s = await ctx.http.sample({ mode: "new-connection", maxRequests: 4, localAddress: address, shouldStop: (r) => allSeen(r), label: address, deadlineMs: Math.max(1000, Math.min(MODE_DEADLINE_MS / 4, sourcesUntil - performance.now())) });
      records.push(...s.records);
      evidence.push(sampleEvidence(`from ${address}`, "new-connection", s.records, { localAddress: address }));
    }

    const counts = countLabels(records);
    const order = (label: string) => (expected.includes(label) ? expected.indexOf(label) : expected.length);
    const list = Object.entries(counts)
      .sort(([a], [b]) => order(a) - order(b) || a.localeCompare(b))
      .map(([k, v]) => `${k}: ${v}`)
      .join(", ");
    const missing = expected.filter((n) => !seen.has(n));
    const foreign = Object.keys(counts).filter((l) => l.startsWith("unknown:") || l === "unidentified");
    if (missing.length === 0) {
      // With SSH, each page must come from its own server: one machine serving both pages
      // (a second vhost, a rewrite) shows both identities through the VIP too.
      const impostors = ctx.ssh ? await pagesFromOwnServers(ctx) : [];
      if (impostors.length) {
        evidence.push(ev.ownPages({ impostors }));
        const what = impostors.map((i) => `${i.backend} (${i.address}): ${i.label}`).join(", ");
        return fail(
          text(`Los dos nombres se ven por la VIP, pero no los sirve cada servidor: ${what}.`, `Both names show through the VIP, but not each from its own server: ${what}.`),
          text(
            "Cada servidor web debe servir su propia página (\"Bienvenido a webserverX\") en su dirección, y el balanceador debe apuntar a ambos.",
            "Each web server must serve its own page (\"Bienvenido a webserverX\") at its own address, and the balancer must point at both.",
          ),
          evidence,
        );
      }
      return pass(text(`Se ven todos los servidores (${list}).`, `Every server is seen (${list}).`), evidence);
    }
    const pinned = ctx.part === "lvs" && ctx.spec.expect.persistenceTimeout > 0 && ctx.spec.grader.sourceAddresses.length === 0;
    if (pinned && seen.size === 1 && missing.length === expected.length - 1) {
      const vouched = await vouchedByTable(ctx);
      if (vouched) {
        evidence.push(vouched.evidence);
        return pass(
          text(
            `Por la VIP solo se ve ${[...seen][0]} (${list}): con persistencia, un cliente siempre va al mismo servidor. ipvsadm -Ln lista ${expected.join(", ")} con peso > 0 y cada uno sirve su propia página desde el balanceador.`,
            `Only ${[...seen][0]} shows through the VIP (${list}): with persistence one client always reaches the same server. ipvsadm -Ln lists ${expected.join(", ")} with weight > 0 and each serves its own page from the balancer.`,
          ),
          evidence,
        );
      }
      return inconclusive(
        text(
          `Solo se ve ${[...seen][0]} (${list}); con persistencia, un cliente siempre va al mismo servidor.`,
          `Only ${[...seen][0]} is seen (${list}); with persistence one client always reaches the same server.`,
        ),
        text(
          "Indique en grader.sourceAddresses otras direcciones de este equipo para simular varios clientes, o dé acceso SSH al balanceador (se leerá su tabla de IPVS).",
          "List other addresses of this machine under grader.sourceAddresses to act as several clients, or give SSH access to the balancer (its IPVS table is then read).",
        ),
        evidence,
      );
    }
    const foreignNote = foreign.length
      ? { es: ` Páginas no reconocidas: ${foreign.join(", ")}.`, en: ` Pages not recognised: ${foreign.join(", ")}.` }
      : { es: "", en: "" };
    return fail(
      text(
        `No responde ${missing.join(", ")} a través de la VIP tras ${records.length} peticiones (${list}).${foreignNote.es}`,
        `${missing.join(", ")} does not answer through the VIP after ${records.length} requests (${list}).${foreignNote.en}`,
      ),
      text(
        `Arranque el servidor web de ${missing.join(", ")}, compruebe que su página dice "Bienvenido a webserverX" con su número y que el balanceador lo incluye.`,
        `Start the web server on ${missing.join(", ")}, check its page says "Bienvenido a webserverX" with its own number, and that the balancer includes it.`,
      ),
      evidence,
    );
  },
});

/** What each backend's own address serves, fetched from the balancer: its own page, another one, nothing, or unknown (no evidence). */
type OwnPage = { backend: string; address: string; label: string; state: "own" | "other" | "none" | "unknown" };

/** Each backend's own page, fetched once per run; undefined without SSH to the balancer. */
function ownPages(ctx: CheckContext): Promise<OwnPage[] | undefined> {
  return ctx.memo("net.own-pages", async () => {
    if (!ctx.ssh?.has("balancer")) return undefined;
    const pages: OwnPage[] = [];
    for (const b of ctx.spec.backends) {
      try {
        const r = await ctx.ssh.exec("balancer", fetchPageCommand(b.address, b.port, ctx.spec.vip.path), { timeoutMs: 10_000 });
        if (r.code === 0 && r.stdout.trim() !== "") {
          const id = ctx.http.identify(r.stdout);
          pages.push({ backend: b.name, address: b.address, label: id.label, state: id.backend === b.name ? "own" : "other" });
        } else if (fetchFoundNoServer(r.code, r.stderr)) {
          pages.push({ backend: b.name, address: b.address, label: "no answer", state: "none" });
        } else {
          // No fetch tool, a denied or garbled command: says nothing about who serves what.
          pages.push({ backend: b.name, address: b.address, label: "unread", state: "unknown" });
        }
      } catch (error) {
        // No SSH to the balancer: this extra evidence is simply not available.
        if (isSshError(error)) return undefined;
        throw error;
      }
    }
    return pages;
  });
}

/** Backends whose own address does not serve their own page, fetched from the balancer. */
async function pagesFromOwnServers(ctx: CheckContext): Promise<{ backend: string; address: string; label: string }[]> {
  return ((await ownPages(ctx)) ?? []).filter((p) => p.state === "other" || p.state === "none").map(({ backend, address, label }) => ({ backend, address, label }));
}

/**
 * With persistence and one client address: the IPVS table, read whole, shows the service
 * persistent and lists every backend as a real server with weight > 0, and each serves its own page from the balancer. Undefined when
 * any of it is missing or says otherwise.
 */
async function vouchedByTable(ctx: CheckContext) {
  if (!ctx.ssh?.has("balancer")) return undefined;
  const view = await optionalVipService(ctx);
  // Persistence excuses one server seen only when the table really is persistent.
  if (!view?.service || view.service.persistent === undefined || !everyBackendWeighted(ctx.spec, view.service)) return undefined;
  const pages = await ownPages(ctx);
  if (!pages || !pages.every((p) => p.state === "own")) return undefined;
  return { evidence: ipvsServiceEvidence(view) };
}

/**
 * The fetch ran and found no web server at the address: curl's "could not connect" (7), timeout
 * (28), empty reply (52) or receive failure (56), wget's network failure (4), timeout's 124, or
 * bash's own connect error. A missing tool (127) or another failure is not such evidence.
 */
function fetchFoundNoServer(code: number | null, stderr: string): boolean {
  if (code !== null && [4, 7, 28, 52, 56, 124].includes(code)) return true;
  return /connect: (Connection refused|No route to host|Connection timed out)/i.test(stderr);
}
