/**
 * What the Part 1 checks share: the kernel's view of the virtual service (`ipvsadm -Ln`, read
 * once per run) and samples of new connections, which is what IPVS schedules. With persistence
 * one client address is pinned to one server, so the scheduler is then judged from many client
 * addresses (grader.sourceAddresses), one new connection each, fresh addresses first.
 */
import type { LabSpec } from "../../src/config/schema.js";
import {
  findIpvsService,
  parseIpvsadmConnections,
  parseIpvsadmList,
  persistenceTemplates,
  type IpvsConnection,
  type IpvsService,
  type IpvsTable,
} from "../../src/inspect/index.js";
import type { RequestRecord } from "../../src/probe/index.js";
import type { CheckContext } from "../../src/runner/context.js";
import { sampleEvidence } from "../../src/runner/evidence.js";
import { sampleRatio, type RatioSample } from "../../src/runner/ratio.js";
import { isSshError } from "../../src/ssh/index.js";
import { createRatioDecider, turnLength, weightsText, type Weights } from "../../src/stats/index.js";
import { endMarked, isUnreadableOutput, readEndMarked, UnreadableOutput } from "../../src/runner/complete.js";
import { ev, text } from "../../src/runner/check.js";
import { BALANCER_FACTS_COMMAND, parseBalancerFacts, type BalancerFacts } from "../../src/runner/nat.js";
import type { Text } from "../../src/model/index.js";

/** `ipvsadm` itself loads ip_vs: it runs only when the module is already there. */
const NOT_LOADED = "hagrade: ip_vs not loaded";
const IPVSADM_LIST = endMarked(`if grep -q '^ip_vs ' /proc/modules; then ipvsadm -Ln; else echo '${NOT_LOADED}'; fi`);
const IPVSADM_CONNECTIONS = endMarked(`if grep -q '^ip_vs ' /proc/modules; then ipvsadm -Lnc; else echo '${NOT_LOADED}'; fi`);

export interface VipServiceView {
  /** False when the ip_vs module is not loaded (nothing was balanced, no table to read). */
  ipvsLoaded: boolean;
  table: IpvsTable;
  /** The VIP as the balancer holds it (labVip): what the table and keepalived.conf are searched for. */
  vip: LabVip;
  /** The virtual service on the VIP and port, when the table lists it. */
  service?: IpvsService;
  output: string;
}

/**
 * The VIP as the balancer holds it. HTTP goes to `spec.vip`; behind a port forward (VirtualBox
 * NAT: 127.0.0.1:8080 to the VIP's port 80) the balancer's configuration names another address:
 * - `forwardsTo`: the spec names it (vip.forwardsTo);
 * - `only-service`: the spec's VIP is loopback, which no balancer serves a class from, and the
 *   IPVS table has exactly one TCP virtual service, on the lab text's port 80 and an address the
 *   balancer holds: that one (readVipService confirms the last two; else `unconfirmed`);
 * - `ambiguous`: loopback, and the table has several (or cannot be read): the checks that need it
 *   are inconclusive until vip.forwardsTo names one;
 * - `spec`: the spec's VIP is the balancer's.
 */
export interface LabVip {
  address: string;
  port: number;
  how: "spec" | "forwardsTo" | "only-service" | "ambiguous" | "unconfirmed";
}

/** The VIP the balancer holds is not known: the checks that need it are inconclusive. */
export function vipUnresolved(vip: LabVip): boolean {
  return vip.how === "ambiguous" || vip.how === "unconfirmed";
}

/** The lab text's service port: a forward's one service is taken only on it. */
const LAB_TEXT_PORT = 80;

export function labVipOf(spec: LabSpec, table: IpvsTable | undefined): LabVip {
  if (spec.vip.forwardsTo) return { address: spec.vip.forwardsTo.address, port: spec.vip.forwardsTo.port, how: "forwardsTo" };
  if (!spec.vip.address.startsWith("127.")) return { address: spec.vip.address, port: spec.vip.port, how: "spec" };
  // A balancer that really serves on loopback (a lab built on one machine) has the spec's VIP itself.
  if (table && findIpvsService(table, spec.vip.address, spec.vip.port)) return { address: spec.vip.address, port: spec.vip.port, how: "spec" };
  const tcp = (table?.services ?? []).filter((s) => s.protocol === "TCP" && s.address !== undefined && s.port !== undefined);
  const only = tcp.length === 1 ? tcp[0] : undefined;
  if (only?.address !== undefined && only.port !== undefined) return { address: only.address, port: only.port, how: "only-service" };
  return { address: spec.vip.address, port: spec.vip.port, how: "ambiguous" };
}

/** The table's services as "address:port" (or "fwmark N"). */
export function serviceNames(table: IpvsTable): string[] {
  return table.services.map((s) => (s.address !== undefined ? `${s.address}:${s.port ?? ""}` : `fwmark ${s.fwmark}`));
}

/** How the VIP the balancer holds was found, for messages; empty when the spec's VIP is it. */
export function labVipNote(spec: LabSpec, vip: LabVip): Text {
  const forward = `${spec.vip.address}:${spec.vip.port}`;
  switch (vip.how) {
    case "forwardsTo":
      return text(` (${forward} redirige a la VIP ${vip.address}:${vip.port}, vip.forwardsTo)`, ` (${forward} forwards to the VIP ${vip.address}:${vip.port}, vip.forwardsTo)`);
    case "only-service":
      return text(
        ` (${forward} es una redirección de puertos: se toma como VIP el único servicio virtual TCP de IPVS, ${vip.address}:${vip.port}; vip.forwardsTo lo fija)`,
        ` (${forward} is a port forward: the one TCP virtual service of IPVS, ${vip.address}:${vip.port}, is taken as the VIP; vip.forwardsTo pins it)`,
      );
    default:
      return text("", "");
  }
}

/** The inconclusive verdict's words when a loopback VIP cannot be matched to one virtual service. */
export function unresolvedVipText(spec: LabSpec, vip: LabVip, services: readonly string[]): { message: Text; fix: Text } {
  const listed = services.join(", ") || "—";
  const forward = `${spec.vip.address}:${spec.vip.port}`;
  return {
    message:
      vip.how === "unconfirmed"
        ? text(
            `La VIP ${forward} es una redirección de puertos de esta máquina; el único servicio virtual TCP del balanceador, ${vip.address}:${vip.port}, no está en el puerto 80 del enunciado o en una dirección del balanceador: no se sabe si es a él adonde llega.`,
            `The VIP ${forward} is a port forward of this machine; the balancer's one TCP virtual service, ${vip.address}:${vip.port}, is not on the lab text's port 80 or on an address of the balancer: whether the forward reaches it is not known.`,
          )
        : text(
            `La VIP ${forward} es una redirección de puertos de esta máquina y el balanceador no tiene un único servicio virtual TCP (${listed}): no se sabe a cuál llega.`,
            `The VIP ${forward} is a port forward of this machine and the balancer has not exactly one TCP virtual service (${listed}): which one it reaches is not known.`,
          ),
    fix: text(
      "Indique en la especificación la VIP tal como la tiene el balanceador: vip.forwardsTo: { address: …, port: 80 }.",
      "Name the VIP as the balancer holds it in the spec: vip.forwardsTo: { address: …, port: 80 }.",
    ),
  };
}

const unreadableTable = (why: Text) =>
  new UnreadableOutput(
    text(`No se pudo leer la tabla de IPVS del balanceador: ${why.es}.`, `Could not read the balancer's IPVS table: ${why.en}.`),
    text(
      "Compruebe que ipvsadm está instalado en el balanceador y que el usuario SSH puede usarlo con sudo sin contraseña.",
      "Check ipvsadm is installed on the balancer and the SSH user may run it with sudo without a password.",
    ),
  );

/**
 * `ipvsadm -Ln` on the balancer, whole: its end line, exit 0, and the table's own header (or the
 * note that ip_vs is not loaded). A table that lacks a service or a real server is evidence only
 * when it is all there; anything else throws UnreadableOutput (the check is then inconclusive).
 */
export async function readIpvsTable(ctx: CheckContext): Promise<Omit<VipServiceView, "service" | "vip">> {
  const r = await ctx.ssh!.exec("balancer", IPVSADM_LIST, { sudo: true });
  const marked = readEndMarked(r.stdout);
  if (!marked.complete) throw unreadableTable(text("la salida llegó incompleta", "its output came incomplete"));
  const said = (r.stderr.trim().split("\n").pop() ?? "").slice(0, 200);
  if (marked.status !== 0) throw unreadableTable(text(`ipvsadm -Ln terminó con el estado ${marked.status}${said ? ` (${said})` : ""}`, `ipvsadm -Ln exited with status ${marked.status}${said ? ` (${said})` : ""}`));
  if (marked.output.trim() === NOT_LOADED) return { ipvsLoaded: false, table: parseIpvsadmList(""), output: marked.output };
  const table = parseIpvsadmList(marked.output);
  if (table.version === undefined || table.unparsed.length > 0) {
    throw unreadableTable(text("ipvsadm -Ln no imprimió una tabla de IPVS", "ipvsadm -Ln did not print an IPVS table"));
  }
  return { ipvsLoaded: true, table, output: marked.output };
}

/** `ipvsadm -Ln` on the balancer, once per run (the service's configuration does not change while grading). */
export function readVipService(ctx: CheckContext): Promise<VipServiceView> {
  return ctx.memo("lvs.ipvsadm-Ln", async () => {
    const read = await readIpvsTable(ctx);
    let vip = labVipOf(ctx.spec, read.table);
    if (vip.how === "only-service") {
      const held = (await balancerFacts(ctx))?.addresses.some((a) => a.address === vip.address);
      if (vip.port !== LAB_TEXT_PORT || !held) vip = { ...vip, how: "unconfirmed" };
    }
    const service = vipUnresolved(vip) ? undefined : findIpvsService(read.table, vip.address, vip.port);
    return { ...read, vip, ...(service ? { service } : {}) };
  });
}

/** The table when SSH gives it whole; undefined without SSH, or when SSH fails or prints no table (HTTP checks go on without it). */
export async function optionalVipService(ctx: CheckContext): Promise<VipServiceView | undefined> {
  if (!ctx.ssh?.has("balancer")) return undefined;
  try {
    return await readVipService(ctx);
  } catch (error) {
    if (isSshError(error) || isUnreadableOutput(error)) return undefined;
    throw error;
  }
}

/** Persistence templates (client port 0) on the VIP now; undefined without SSH or without a whole listing. */
export async function vipTemplates(ctx: CheckContext): Promise<IpvsConnection[] | undefined> {
  if (!ctx.ssh?.has("balancer")) return undefined;
  try {
    const r = await ctx.ssh.exec("balancer", IPVSADM_CONNECTIONS, { sudo: true });
    const marked = readEndMarked(r.stdout);
    if (!marked.complete || marked.status !== 0) return undefined;
    if (marked.output.trim() === NOT_LOADED) return [];
    if (!/^\s*IPVS connection entries\s*$/m.test(marked.output)) return undefined;
    const listing = parseIpvsadmConnections(marked.output);
    if (listing.unparsed.length > 0) return undefined;
    const vip = await heldVip(ctx);
    if (vipUnresolved(vip)) return undefined;
    return persistenceTemplates(listing).filter((t) => t.virtual.address === vip.address && t.virtual.port === vip.port);
  } catch (error) {
    if (isSshError(error)) return undefined;
    throw error;
  }
}

/**
 * The balancer's own facts (its addresses, and this machine's address as its sshd sees it), once
 * per run; undefined without SSH or when unread.
 */
export function balancerFacts(ctx: CheckContext): Promise<BalancerFacts | undefined> {
  const ssh = ctx.ssh;
  if (!ssh?.has("balancer")) return Promise.resolve(undefined);
  return ctx.memo("balancer.facts", async () => {
    try {
      const r = await ssh.exec("balancer", BALANCER_FACTS_COMMAND, { asLogin: true });
      return r.code === 0 ? parseBalancerFacts(r.stdout) : undefined;
    } catch (error) {
      if (isSshError(error)) return undefined;
      throw error;
    }
  });
}

/**
 * This machine's address as the balancer sees it: behind an address translator (a port forward)
 * the balancer's templates and connections carry that address, not this machine's own.
 */
export async function seenByBalancerAs(ctx: CheckContext): Promise<string | undefined> {
  return (await balancerFacts(ctx))?.seenAs;
}

/** The VIP as the balancer holds it: from the table when SSH reads it, else from the spec alone. */
export async function heldVip(ctx: CheckContext): Promise<LabVip> {
  return (await optionalVipService(ctx))?.vip ?? labVipOf(ctx.spec, undefined);
}

/**
 * A template of this machine's own connections (not one bound to a grader.sourceAddresses
 * address): by its own address, else by the address the balancer sees it as.
 */
export async function ownTemplate(ctx: CheckContext, templates: readonly IpvsConnection[], own: string | undefined): Promise<{ client: string | undefined; template?: IpvsConnection }> {
  const mine = templates.find((t) => t.source.address === own);
  if (mine) return { client: own, template: mine };
  const seenAs = await seenByBalancerAs(ctx);
  const theirs = seenAs === undefined || seenAs === own ? undefined : templates.find((t) => t.source.address === seenAs);
  return theirs ? { client: seenAs, template: theirs } : { client: own };
}

/** The table's real server of each backend (matched by address and port). */
export function realServersByBackend(spec: LabSpec, service: IpvsService | undefined) {
  return spec.backends.map((b) => ({
    backend: b,
    server: service?.realServers.find((s) => s.address === b.address && (s.port ?? 80) === b.port),
  }));
}

/** Weighted schedulers; the others (rr, lc, sh ...) ignore real server weights. */
export function isWeightedScheduler(scheduler: string | undefined): boolean {
  return scheduler !== undefined && ["wrr", "wlc", "sed", "lblc", "lblcr", "mh"].includes(scheduler);
}

export function equalWeights(spec: LabSpec): Weights {
  return Object.fromEntries(spec.backends.map((b) => [b.name, 1]));
}

export function allEqual(weights: Weights): boolean {
  return new Set(Object.values(weights)).size <= 1;
}

export interface ConnectionSample extends RatioSample {
  /** one: every request from the grader's own address; many: one request per source address. */
  clients: "one" | "many";
}

/**
 * New connections to the VIP decided against `expected`, shared by the checks that read the
 * same ratio. Persistence pins one address: then `null` when the spec lists no source
 * addresses (the caller says how to decide it).
 */
export function connectionSample(ctx: CheckContext, expected: Weights, pinned: boolean): Promise<ConnectionSample | null> {
  const key = `lvs.connection-sample:${pinned ? "many" : "one"}:${JSON.stringify(expected)}`;
  return ctx.memo(key, async () => {
    const cycle = tableCycle((await optionalVipService(ctx))?.service);
    const maxCycle = cycle !== undefined ? { maxCycle: cycle } : {};
    if (!pinned) return { ...(await sampleRatio(ctx, { name: "new-connection", mode: "new-connection", expected, ...maxCycle })), clients: "one" as const };
    const addresses = await freshSourceAddresses(ctx);
    if (addresses.length === 0) return null;
    const decider = createRatioDecider(expected, { maxSamples: addresses.length, ...maxCycle });
    const records: RequestRecord[] = [];
    for (const address of addresses) {
      const s = await ctx.http.sample({ mode: "new-connection", maxRequests: 1, localAddress: address, label: `client ${address}` });
      const record = s.records[0];
      if (!record) continue;
      records.push({ ...record, seq: records.length + 1 });
      if (decider.push(record.label).state === "decided") break;
    }
    const verdict = decider.finish();
    return {
      records,
      verdict,
      clients: "many" as const,
      evidence: sampleEvidence("one connection per client address", "new-connection", records, {
        ratio: verdict,
        clientAddresses: records.map((r) => r.localAddress ?? ""),
      }),
    };
  });
}

/**
 * The length of the cycle the running scheduler turns in, from `ipvsadm -Ln`: rr one request
 * per server with weight > 0, wrr Σ weight/gcd (src/stats/schedulers.ts). The kernel's table
 * is the running configuration, so no deterministic cycle longer than this (nor than those of
 * the servers left when some fail) can reach the sample, and the ratio decider needs to tell
 * apart only cycles up to this length: a 3:1 lab is then decided from 56 connections instead
 * of the 202 that rule out every cycle of up to 199 requests. Undefined for other schedulers
 * or without the table: the decider's default then holds.
 */
export function tableCycle(service: IpvsService | undefined): number | undefined {
  const scheduler = service?.scheduler === "rr" ? "lvs-rr" : service?.scheduler === "wrr" ? "lvs-wrr" : undefined;
  const weights = service?.realServers.map((s) => s.weight);
  if (!scheduler || !weights || weights.length === 0 || weights.some((w) => w === undefined || !Number.isInteger(w))) return undefined;
  const length = turnLength(scheduler, weights.map((w) => w ?? 0));
  return length > 0 ? length : undefined;
}

/** Source addresses without a persistence template first: a pinned address says nothing about the scheduler. */
export async function freshSourceAddresses(ctx: CheckContext): Promise<string[]> {
  const addresses = ctx.spec.grader.sourceAddresses;
  if (addresses.length === 0) return [];
  const templates = await vipTemplates(ctx);
  const pinned = new Set((templates ?? []).map((t) => t.source.address));
  return [...addresses.filter((a) => !pinned.has(a)), ...addresses.filter((a) => pinned.has(a))];
}

/** Whether one client address is pinned: the table decides when SSH reads it, else the spec. */
export function isPinned(ctx: CheckContext, view: VipServiceView | undefined): boolean {
  if (view?.service) return view.service.persistent !== undefined;
  return ctx.spec.expect.persistenceTimeout > 0;
}

/** "real_server 10.0.0.11 80 { weight 3 ... }" lines a student can copy. */
export function realServerLines(spec: LabSpec, weights?: Weights): string {
  return spec.backends
    .map((b) => `real_server ${b.address} ${b.port} { weight ${weights?.[b.name] ?? b.weight ?? 1} … }`)
    .join("; ");
}

export interface ExpectedWeights {
  /** The shares new connections should take; undefined when neither the spec nor the table gives them. */
  weights?: Weights;
  /** Where they come from: the spec's backends[].weight, or the weights ipvsadm shows. */
  source: "spec" | "table" | "none";
  /** The table's weights by backend name, when SSH read it. */
  tableWeights?: Weights;
}

/** The weights the lab should show: the spec's, else the table's (as the student configured them). */
export function expectedWeights(ctx: CheckContext, view: VipServiceView | undefined): ExpectedWeights {
  const rows = realServersByBackend(ctx.spec, view?.service);
  const tableWeights = view?.service && rows.every((r) => r.server?.weight !== undefined)
    ? Object.fromEntries(rows.map((r) => [r.backend.name, r.server?.weight ?? 0]))
    : undefined;
  const withTable = tableWeights ? { tableWeights } : {};
  if (ctx.spec.backends.every((b) => b.weight !== undefined)) {
    return { weights: Object.fromEntries(ctx.spec.backends.map((b) => [b.name, b.weight ?? 1])), source: "spec", ...withTable };
  }
  if (tableWeights && Object.values(tableWeights).some((w) => w > 0)) return { weights: tableWeights, source: "table", ...withTable };
  return { source: "none", ...withTable };
}

/** The lab step asks for weighted balancing (wrr): the scheduler, or unequal expected weights, say so. */
export function weightedStep(ctx: CheckContext): boolean {
  if (ctx.spec.expect.lbAlgo !== undefined) return ctx.spec.expect.lbAlgo === "wrr";
  const weights = ctx.spec.backends.map((b) => b.weight ?? 1);
  return new Set(weights).size > 1 || ctx.spec.step === "wrr";
}

/** "3:1" in the spec's backend order (reduced: 6:2 is 3:1, the same shares). */
export function ratioText(spec: LabSpec, weights: Weights): string {
  return weightsText(spec.backends.map((b) => weights[b.name] ?? 0));
}

/**
 * One new connection to the VIP answered with a web server's page, once per run: the table is
 * the running configuration only when the VIP really is served through it. Undefined without an
 * answer that names a backend (the VIP down, refused, or serving something else).
 */
export function vipServesBackend(ctx: CheckContext): Promise<RequestRecord | undefined> {
  return ctx.memo("lvs.vip-serves-backend", async () => {
    const s = await ctx.http.sample({ mode: "new-connection", maxRequests: 1, label: "one new connection to the VIP" });
    const record = s.records[0];
    return record?.backend !== undefined && ctx.spec.backends.some((b) => b.name === record.backend) ? record : undefined;
  });
}

/** What the table shows of a persistent service whose configuration is the expected one. */
export interface TableVouch {
  scheduler: string;
  persistent: number;
  /** Weights by backend name, every one > 0. */
  weights: Weights;
  /** The request to the VIP that a web server answered. */
  answered: RequestRecord;
}

/**
 * Under persistence one client address reaches one server, so the traffic a client can send
 * shows little of the scheduler: the kernel's table, read whole over SSH, is then the primary
 * evidence. It vouches for a lab only when all of this holds:
 * - the VIP's service is persistent, with the scheduler the step asks for (`scheduler`);
 * - every backend of the spec is a real server with weight > 0 (none quiesced or missing);
 * - with `weights`, the table's ratio is that one;
 * - one new connection to the VIP is answered by a web server's page.
 * Otherwise undefined: the checks then decide from traffic alone, or stay inconclusive.
 */
export async function tableVouches(
  ctx: CheckContext,
  view: VipServiceView | undefined,
  scheduler: "rr" | "wrr",
  weights?: Weights,
): Promise<TableVouch | undefined> {
  const service = view?.service;
  if (!service || service.persistent === undefined || service.scheduler !== scheduler) return undefined;
  if (!everyBackendWeighted(ctx.spec, service)) return undefined;
  const table: Weights = Object.fromEntries(realServersByBackend(ctx.spec, service).map((r) => [r.backend.name, r.server?.weight ?? 0]));
  if (weights && ratioText(ctx.spec, table) !== ratioText(ctx.spec, weights)) return undefined;
  const answered = await vipServesBackend(ctx);
  if (!answered) return undefined;
  return { scheduler, persistent: service.persistent, weights: table, answered };
}

/** Every backend of the spec is a real server of `service` that gets new clients (weight > 0). */
export function everyBackendWeighted(spec: LabSpec, service: IpvsService): boolean {
  return realServersByBackend(spec, service).every((r) => r.server?.weight !== undefined && r.server.weight > 0);
}

/** The request to the VIP a vouch rests on, as sample evidence. */
export function vouchEvidence(vouch: TableVouch) {
  return sampleEvidence("one new connection to the VIP", "new-connection", [vouch.answered]);
}

/** The table's service as evidence, with its persistence and weights. */
export function ipvsServiceEvidence(view: VipServiceView, tableWeights?: Weights) {
  const service = view.service;
  return ev.ipvsService({
    service: service ? service.text.trim() : null,
    ...(service ? { realServers: service.realServers.map((s) => s.text.trim()), persistent: service.persistent ?? null } : {}),
    ...(tableWeights ? { tableWeights } : {}),
  });
}
