import { defineCheck, fail, pass, remote, text } from "../../src/runner/check.js";
import {
  digestsEqual,
  keepalivedIncludesFrom,
  keepalivedModel,
  keepalivedResponseDigest,
  parseGenhashOutput,
  parseKeepalivedConfig,
  type FetchedFile,
  type KeepalivedAst,
  type KeepalivedRealServer,
} from "../../src/inspect/index.js";
import type { CheckContext } from "../../src/runner/context.js";
import type { Evidence } from "../../src/runner/types.js";
import { shQuote } from "../../src/ssh/index.js";

const CONFIG = "/etc/keepalived/keepalived.conf";
/** Nested include rounds fetched over SSH (keepalived itself stops deeper loops). */
const INCLUDE_ROUNDS = 3;
/** Include globs are expanded by the balancer's shell: only plain path characters reach it. */
const SAFE_GLOB = /^\/[A-Za-z0-9_./*?[\]-]+$/;
const SAFE_HOST = /^[A-Za-z0-9.:-]+$/;
const SAFE_PATH = /^\/[A-Za-z0-9_./~?=&+,-]*$/;

interface RealServerFinding {
  backend: string;
  address: string;
  ok: boolean;
  problem?: { es: string; en: string };
  fix?: { es: string; en: string };
  configured?: string;
  computed?: string;
  genhash?: string;
}

/**
 * Part 1, HTTP_GET step (the part that changes nothing): every real server is checked with
 * HTTP_GET { url { path digest } } and each digest is the MD5 of the page that server serves,
 * computed as keepalived does (HTTP/1.0 request, body up to Content-Length), from the balancer
 * itself, where keepalived asks from; genhash's answer is compared too where it is installed.
 * A copied block (webserver1's digest on webserver2) keeps that server out of the pool.
 */
export default defineCheck({
  id: "lvs.http-get",
  part: "lvs",
  title: text("Chequeo HTTP_GET con digest de cada servidor", "HTTP_GET health check with each server's digest"),
  points: 2,
  needs: ["ssh"],
  async run(ctx) {
    // The lab asks for HTTP_GET only from its http-get step on: earlier steps leave it out of the maximum.
    if (ctx.spec.step === "rr" || ctx.spec.step === "wrr" || ctx.spec.step === "persistence") {
      return {
        outcome: "skipped",
        message: text(`El paso ${ctx.spec.step} aún no pide HTTP_GET.`, `Step ${ctx.spec.step} does not ask for HTTP_GET yet.`),
        evidence: [],
        notRequested: true,
      };
    }
    const ssh = remote(ctx);
    const main = await ssh.exec("balancer", `cat ${CONFIG}`, { sudo: true });
    if (main.code !== 0) {
      return fail(
        text(`No se puede leer ${CONFIG} en el balanceador: ${main.stderr.trim().slice(0, 200)}.`, `${CONFIG} cannot be read on the balancer: ${main.stderr.trim().slice(0, 200)}.`),
        text(`Escriba la configuración de keepalived en ${CONFIG}.`, `Write keepalived's configuration in ${CONFIG}.`),
      );
    }
    const ast = await parseWithIncludes(ctx, main.stdout);
    const model = keepalivedModel(ast);
    const { vip } = ctx.spec;
    const vs = model.virtualServers.find((v) => v.kind === "address" && v.address === vip.address && (v.port ?? 0) === vip.port);
    const evidence: Evidence[] = [{ kind: "keepalived-config", files: ast.files }];
    if (!vs) {
      return fail(
        text(`${CONFIG} no tiene virtual_server ${vip.address} ${vip.port}.`, `${CONFIG} has no virtual_server ${vip.address} ${vip.port}.`),
        text(`Añada virtual_server ${vip.address} ${vip.port} { … } con un real_server por servidor web.`, `Add virtual_server ${vip.address} ${vip.port} { … } with one real_server per web server.`),
        evidence,
      );
    }
    const findings: RealServerFinding[] = [];
    for (const b of ctx.spec.backends) {
      const rs = vs.realServers.find((r) => r.address === b.address && (r.port ?? 0) === b.port);
      findings.push(await judgeRealServer(ctx, b.name, b.address, b.port, rs));
    }
    evidence.push({ kind: "http-get-digests", realServers: findings });
    const wrong = findings.filter((f) => !f.ok);
    if (wrong.length === 0) {
      const list = findings.map((f) => `${f.backend}: ${f.computed ?? "?"}`).join(", ");
      return pass(text(`HTTP_GET con el digest de cada página (${list}).`, `HTTP_GET with each page's digest (${list}).`), evidence);
    }
    return fail(
      text(wrong.map((f) => f.problem?.es ?? "").join(" "), wrong.map((f) => f.problem?.en ?? "").join(" ")),
      text(wrong.map((f) => f.fix?.es ?? "").join(" "), wrong.map((f) => f.fix?.en ?? "").join(" ")),
      evidence,
    );
  },
});

async function judgeRealServer(ctx: CheckContext, backend: string, address: string, port: number, rs: KeepalivedRealServer | undefined): Promise<RealServerFinding> {
  const base = { backend, address };
  if (!rs) {
    return {
      ...base,
      ok: false,
      problem: { es: `No hay real_server ${address} ${port} (${backend}).`, en: `There is no real_server ${address} ${port} (${backend}).` },
      fix: { es: `Añada real_server ${address} ${port} { weight 1 HTTP_GET { url { path / digest … } connect_timeout 3 } }.`, en: `Add real_server ${address} ${port} { weight 1 HTTP_GET { url { path / digest … } connect_timeout 3 } }.` },
    };
  }
  const check = rs.checks.find((c) => c.type === "HTTP_GET");
  if (!check) {
    const used = rs.checks.map((c) => c.type).join(", ") || "ninguno";
    const usedEn = rs.checks.map((c) => c.type).join(", ") || "none";
    return {
      ...base,
      ok: false,
      problem: { es: `real_server ${address} usa ${used}, no HTTP_GET: una página errónea no lo saca del reparto.`, en: `real_server ${address} uses ${usedEn}, not HTTP_GET: a wrong page does not take it out of the pool.` },
      fix: { es: `En real_server ${address} ${port}: HTTP_GET { url { path / digest <genhash -s ${address} -p ${port} -u /> } connect_timeout 3 }.`, en: `In real_server ${address} ${port}: HTTP_GET { url { path / digest <genhash -s ${address} -p ${port} -u /> } connect_timeout 3 }.` },
    };
  }
  const url = check.urls.find((u) => u.path !== undefined && u.digest !== undefined);
  if (!url) {
    return {
      ...base,
      ok: false,
      problem: { es: `El HTTP_GET de ${address} no tiene url { path … digest … }.`, en: `The HTTP_GET of ${address} has no url { path … digest … }.` },
      fix: { es: `Dentro del HTTP_GET de ${address}: url { path / digest <salida de genhash -s ${address} -p ${port} -u /> }.`, en: `Inside the HTTP_GET of ${address}: url { path / digest <output of genhash -s ${address} -p ${port} -u /> }.` },
    };
  }
  const host = check.connectIp ?? address;
  const checkPort = check.effectivePort ?? port;
  const path = url.path as string;
  const page = await fetchRawPage(ctx, host, checkPort, path);
  const gh = await ctx.ssh!.exec("balancer", `if command -v genhash >/dev/null 2>&1; then genhash -s ${shQuote(host)} -p ${checkPort} -u ${shQuote(path)}; fi`, { timeoutMs: 15_000 });
  const genhash = gh.stdout.trim() ? parseGenhashOutput(gh.stdout).digest : undefined;
  const computed = page?.digest;
  const found = { ...base, configured: url.digest as string, ...(computed ? { computed } : {}), ...(genhash ? { genhash } : {}) };
  const actual = genhash ?? computed;
  if (!actual) {
    return {
      ...found,
      ok: false,
      problem: { es: `${host}:${checkPort}${path} no responde desde el balanceador (${backend}).`, en: `${host}:${checkPort}${path} does not answer from the balancer (${backend}).` },
      fix: { es: `Arranque el servidor web de ${backend} y compruebe que el balanceador le llega.`, en: `Start ${backend}'s web server and check the balancer reaches it.` },
    };
  }
  if (page?.statusCode !== undefined && (page.statusCode < 200 || page.statusCode > 299)) {
    return {
      ...found,
      ok: false,
      problem: { es: `${host}:${checkPort}${path} responde ${page.statusCode} (${backend}): HTTP_GET lo da por caído.`, en: `${host}:${checkPort}${path} answers ${page.statusCode} (${backend}): HTTP_GET counts it down.` },
      fix: { es: `Ponga en path una página que ${backend} sirva con 200 (p. ej. path /).`, en: `Set path to a page ${backend} serves with 200 (e.g. path /).` },
    };
  }
  if (digestsEqual(url.digest, computed) || digestsEqual(url.digest, genhash)) return { ...found, ok: true };
  return {
    ...found,
    ok: false,
    problem: {
      es: `real_server ${address} (${backend}) tiene digest ${url.digest ?? ""}, pero su página ${path} da ${actual}: keepalived lo saca del reparto.`,
      en: `real_server ${address} (${backend}) has digest ${url.digest ?? ""}, but its page ${path} gives ${actual}: keepalived takes it out of the pool.`,
    },
    fix: { es: `En real_server ${address} ${port}, url { path ${path} digest ${actual} }.`, en: `In real_server ${address} ${port}, url { path ${path} digest ${actual} }.` },
  };
}

/** The raw answer (status line, headers, body) to an HTTP/1.0 GET from the balancer, as keepalived asks. */
async function fetchRawPage(ctx: CheckContext, host: string, port: number, path: string) {
  // Both come from the student's keepalived.conf and end up inside a shell script.
  if (!SAFE_HOST.test(host) || !SAFE_PATH.test(path)) return undefined;
  const url = `http://${host}:${port}${path}`;
  const raw = `exec 3<>/dev/tcp/${host}/${port} && printf 'GET ${path} HTTP/1.0\\r\\nHost: ${host}\\r\\n\\r\\n' >&3 && cat <&3`;
  const command = `{ if command -v curl >/dev/null 2>&1; then curl -s -i -0 -m 5 ${shQuote(url)}; else timeout 5 bash -c ${shQuote(raw)}; fi; } | base64 -w0`;
  const r = await ctx.ssh!.exec("balancer", command, { timeoutMs: 15_000 });
  const bytes = Buffer.from(r.stdout.trim(), "base64");
  if (bytes.length === 0) return undefined;
  return keepalivedResponseDigest(bytes);
}

/** Parses keepalived.conf, fetching the files its include lines name (a few rounds for nested ones). */
async function parseWithIncludes(ctx: CheckContext, text: string): Promise<KeepalivedAst> {
  const files: FetchedFile[] = [];
  const asked = new Set<string>();
  let ast = parseKeepalivedConfig(text, { file: CONFIG, readInclude: keepalivedIncludesFrom(files) });
  for (let round = 0; round < INCLUDE_ROUNDS; round++) {
    const wanted: string[] = [];
    parseKeepalivedConfig(text, {
      file: CONFIG,
      readInclude: (request) => {
        if (!asked.has(request.resolved) && SAFE_GLOB.test(request.resolved)) wanted.push(request.resolved);
        return keepalivedIncludesFrom(files)(request);
      },
    });
    if (wanted.length === 0) break;
    for (const pattern of wanted) {
      asked.add(pattern);
      const r = await ctx.ssh!.exec("balancer", `for f in ${pattern}; do [ -f "$f" ] && printf '%s\\t%s\\n' "$f" "$(base64 -w0 < "$f")"; done; true`, { sudo: true });
      for (const line of r.stdout.split("\n")) {
        const [path, body] = line.split("\t");
        if (path && body !== undefined && !files.some((f) => f.path === path)) files.push({ path, text: Buffer.from(body, "base64").toString("utf8") });
      }
    }
    ast = parseKeepalivedConfig(text, { file: CONFIG, readInclude: keepalivedIncludesFrom(files) });
  }
  return ast;
}
