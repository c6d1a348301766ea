/**
 * The disruptive half of the HTTP_GET step: one real server's page is changed to a wrong text
 * over SSH (journaled before, its exact bytes restored and verified after), and the IPVS table
 * shows whether keepalived's health check takes it out, and puts it back once the page is right,
 * within bounds derived from the checker's own timers in keepalived.conf.
 */
import { findIpvsService, parseApacheVhosts, type KeepalivedCheck, type KeepalivedRealServer, type KeepalivedVirtualServer } from "../../src/inspect/index.js";
import { SAFE_URL_PATH, type Backend } from "../../src/config/schema.js";
import type { CheckContext } from "../../src/runner/context.js";
import { fetchPageCommand } from "../../src/runner/pages.js";
import type { Text } from "../../src/model/index.js";
import { RestoreStepError, SshError, shQuote, withRestore, type RestoreReport } from "../../src/ssh/index.js";
import { now, round1, sleep } from "./binding.js";
import { readIpvsTable, readVipService } from "./ipvs.js";
import { isUnreadableOutput } from "../../src/runner/complete.js";

/** keepalived.conf(5) defaults, for the timers a configuration leaves out. */
const DEFAULT_DELAY_LOOP = 60;
const DEFAULT_CONNECT_TIMEOUT = 5;
const DEFAULT_RETRY = 1;
/** delay_before_retry: 3 s for HTTP_GET and SSL_GET, 1 s for the other checkers. */
const defaultDelayBeforeRetry = (type: string) => (type === "HTTP_GET" || type === "SSL_GET" ? 3 : 1);
/** Allowance for a loaded balancer and the table polling: 25 % more, plus 5 s. */
const MARGIN_FACTOR = 1.25;
const MARGIN_SECONDS = 5;
/** The original page goes into the undo command itself, so a replay needs nothing left on the machine. */
const MAX_PAGE_BYTES = 48 * 1024;
const WRONG_PAGE = "<html><body><h1>hagrade: pagina alterada para probar HTTP_GET</h1></body></html>";

export interface HealthCheckBounds {
  /** The checker's timers as keepalived uses them (configured or default). */
  delayLoop: number;
  connectTimeout: number;
  retry: number;
  delayBeforeRetry: number;
  urls: number;
  /** Which of them came from keepalived's defaults. */
  defaulted: string[];
  /** Worst case from a page going wrong to the server leaving the table, seconds (before the margin). */
  removalSeconds: number;
  /** Worst case from the page being right again to the server back in the table, seconds (before the margin). */
  returnSeconds: number;
  /** The bounds waited for, with the margin. */
  removalWaitSeconds: number;
  returnWaitSeconds: number;
  formula: Text;
}

/**
 * A page that goes wrong just after a good check is seen at the next one (≤ delay_loop); that
 * attempt and `retry` more each take up to connect_timeout, with delay_before_retry between them.
 * Back: keepalived checks each url once, delay_loop apart, and one good round restores the server.
 */
export function healthCheckBounds(check: KeepalivedCheck | undefined, vs: KeepalivedVirtualServer): HealthCheckBounds {
  const defaulted: string[] = [];
  const pick = (name: string, value: number | undefined, fallback: number) => {
    if (value !== undefined) return value;
    defaulted.push(name);
    return fallback;
  };
  const delayLoop = pick("delay_loop", check?.delayLoop ?? vs.delayLoop, DEFAULT_DELAY_LOOP);
  const connectTimeout = pick("connect_timeout", check?.connectTimeout, DEFAULT_CONNECT_TIMEOUT);
  const retry = pick("retry", check?.retry, DEFAULT_RETRY);
  const delayBeforeRetry = pick("delay_before_retry", check?.delayBeforeRetry, defaultDelayBeforeRetry(check?.type ?? "TCP_CHECK"));
  const urls = Math.max(1, check?.urls.length ?? 1);
  const removalSeconds = delayLoop + (retry + 1) * connectTimeout + retry * delayBeforeRetry;
  const returnSeconds = urls * delayLoop + connectTimeout;
  const margin = (s: number) => round1(s * MARGIN_FACTOR + MARGIN_SECONDS);
  return {
    delayLoop,
    connectTimeout,
    retry,
    delayBeforeRetry,
    urls,
    defaulted,
    removalSeconds,
    returnSeconds,
    removalWaitSeconds: margin(removalSeconds),
    returnWaitSeconds: margin(returnSeconds),
    formula: {
      es: `delay_loop ${delayLoop} + (retry ${retry} + 1) × connect_timeout ${connectTimeout} + retry ${retry} × delay_before_retry ${delayBeforeRetry} = ${removalSeconds} s`,
      en: `delay_loop ${delayLoop} + (retry ${retry} + 1) × connect_timeout ${connectTimeout} + retry ${retry} × delay_before_retry ${delayBeforeRetry} = ${removalSeconds} s`,
    },
  };
}

/** An MD5 as md5sum prints it: exactly 32 lowercase hex digits. */
export function isMd5(text: string | undefined): text is string {
  return text !== undefined && /^[0-9a-f]{32}$/.test(text);
}

/** Strict base64 (as `base64 -w0` prints it) of at most MAX_PAGE_BYTES bytes. */
export function isPageBase64(text: string): boolean {
  return text.length % 4 === 0 && text.length <= Math.ceil(MAX_PAGE_BYTES / 3) * 4 && /^[A-Za-z0-9+/]*={0,2}$/.test(text);
}

/** The spec's rule for vip.path (SAFE_URL_PATH), applied to a path read from keepalived.conf. */
export function isSafeUrlPath(path: string): boolean {
  return path.length <= 2048 && SAFE_URL_PATH.test(path);
}

export interface PageFile {
  /** The page's file on the web server. */
  file: string;
  /** The URL path keepalived asks for. */
  urlPath: string;
  /** The file's bytes, base64. */
  original: string;
  md5: string;
}

/**
 * The file behind `urlPath` on the web server: DocumentRoot (Apache's main one, and those of
 * its sites) joined with the path, or the spec's pagePath; the one whose bytes are what the
 * server serves for that path wins.
 */
export async function findPageFile(ctx: CheckContext, backend: Backend, urlPath: string): Promise<PageFile | { problem: Text }> {
  const ssh = ctx.ssh!;
  const roots = await ssh.exec(
    backend.name,
    "{ apache2ctl -S || apachectl -S || httpd -S; } 2>/dev/null; grep -rhi '^[[:space:]]*DocumentRoot' /etc/apache2/sites-enabled /etc/httpd/conf /etc/httpd/conf.d 2>/dev/null; true",
    { sudo: true, timeoutMs: 15_000 },
  );
  const documentRoots = new Set<string>();
  const main = parseApacheVhosts(roots.stdout).mainDocumentRoot;
  if (main) documentRoots.add(main);
  for (const m of roots.stdout.matchAll(/^\s*DocumentRoot\s+"?([^"\s]+)"?/gim)) if (m[1]) documentRoots.add(m[1]);
  const relative = (urlPath.split("?")[0] ?? "/").replace(/\/$/, "/index.html");
  const candidates = [...[...documentRoots].map((root) => `${root.replace(/\/$/, "")}${relative}`), backend.pagePath];
  if (!isSafeUrlPath(urlPath)) {
    return {
      problem: {
        es: `La ruta ${JSON.stringify(urlPath.slice(0, 100))} del chequeo HTTP_GET no es una ruta de URL sencilla (letras, dígitos, / . _ ~ - y %XX); no se usa en una orden.`,
        en: `The HTTP_GET check's path ${JSON.stringify(urlPath.slice(0, 100))} is not a plain URL path (letters, digits, / . _ ~ - and %XX); it is not put in a command.`,
      },
    };
  }
  const served = await ssh.exec(backend.name, `${fetchPageCommand("127.0.0.1", backend.port, urlPath)} | md5sum`, { timeoutMs: 15_000 });
  const servedMd5 = served.stdout.slice(0, 32);
  for (const file of new Set(candidates)) {
    if (!/^\/[A-Za-z0-9_./~+-]+$/.test(file) || file.includes("..")) continue;
    const r = await ssh.exec(backend.name, `f=${shQuote(file)}; [ -f "$f" ] && [ $(wc -c < "$f") -le ${MAX_PAGE_BYTES} ] && md5sum < "$f" | cut -c1-32 && base64 -w0 < "$f"`, { sudo: true, timeoutMs: 15_000 });
    const [md5, original] = r.stdout.split("\n");
    // Both go into the undo and verify commands run as root: only what md5sum and base64 can print.
    if (r.code === 0 && isMd5(md5) && md5 === servedMd5 && original !== undefined && isPageBase64(original.trim())) {
      return { file, urlPath, original: original.trim(), md5 };
    }
  }
  return {
    problem: {
      es: `No se encontró en ${backend.name} el fichero de ${urlPath} (probados: ${[...new Set(candidates)].join(", ")}; ninguno es lo que sirve o supera ${MAX_PAGE_BYTES} bytes).`,
      en: `The file behind ${urlPath} was not found on ${backend.name} (tried: ${[...new Set(candidates)].join(", ")}; none is what it serves, or it exceeds ${MAX_PAGE_BYTES} bytes).`,
    },
  };
}

export interface WrongPageMeasure {
  victim: string;
  file: string;
  urlPath: string;
  bounds: HealthCheckBounds;
  /** The server left the IPVS table while its page was wrong. */
  left: boolean;
  leftAfterSeconds?: number;
  /** How long the wrong page was watched. */
  watchedSeconds: number;
  /** After the page was restored: back in the table (undefined when it never left). */
  back?: boolean;
  backAfterSeconds?: number;
  restore: RestoreReport;
  failure?: { kind: string; text: Text };
}

/** Whether `backend`'s real server is in the IPVS table of the VIP now. */
export async function inTable(ctx: CheckContext, backend: Backend): Promise<boolean> {
  // Only a whole table can say a server is gone (readIpvsTable throws on anything else).
  const vip = (await readVipService(ctx)).vip;
  const { table } = await readIpvsTable(ctx);
  const service = findIpvsService(table, vip.address, vip.port);
  return service?.realServers.some((s) => s.address === backend.address && (s.port ?? 80) === backend.port) ?? false;
}

/** Polls the table with backoff (0.5 s, ×1.5, capped at 2 s) until `wanted` or `boundSeconds` pass; seconds it took. */
async function watchTable(ctx: CheckContext, backend: Backend, wanted: boolean, boundSeconds: number): Promise<number | undefined> {
  const start = now();
  let step = 500;
  for (;;) {
    if ((await inTable(ctx, backend)) === wanted) return round1((now() - start) / 1000);
    if (now() - start >= boundSeconds * 1000) return undefined;
    await sleep(step, ctx.signal);
    step = Math.min(2000, step * 1.5);
  }
}

/**
 * Changes `backend`'s page to a wrong text (journaled first), watches the table for the removal
 * bound, restores the exact original bytes (verified by MD5), then watches it come back.
 */
export async function measureWrongPage(
  ctx: CheckContext,
  backend: Backend,
  page: PageFile,
  rs: KeepalivedRealServer | undefined,
  vs: KeepalivedVirtualServer,
): Promise<WrongPageMeasure> {
  const check = rs?.checks.find((c) => c.type === "HTTP_GET") ?? rs?.checks[0];
  const bounds = healthCheckBounds(check, vs);
  const file = shQuote(page.file);
  let left = false;
  let leftAfterSeconds: number | undefined;
  let watchedSeconds = 0;
  const outcome = await withRestore(
    { journal: ctx.journal(), pool: ctx.ssh!.pool },
    {
      host: backend.name,
      description: {
        es: `Cambiar la página ${page.file} de ${backend.name} por un texto erróneo para comprobar el chequeo HTTP_GET`,
        en: `Change ${backend.name}'s page ${page.file} to a wrong text to check the HTTP_GET health check`,
      },
      before: `md5sum < ${file}`,
      change: `printf '%s\\n' ${shQuote(WRONG_PAGE)} > ${file}`,
      undo: `printf '%s' ${shQuote(page.original)} | base64 -d > ${file}`,
      verify: `[ "$(md5sum < ${file} | cut -c1-32)" = ${shQuote(page.md5)} ]`,
      timeoutMs: (bounds.removalWaitSeconds + 30) * 1000,
    },
    async () => {
      const start = now();
      const after = await watchTable(ctx, backend, false, bounds.removalWaitSeconds);
      watchedSeconds = round1((now() - start) / 1000);
      left = after !== undefined;
      if (after !== undefined) leftAfterSeconds = after;
    },
  );
  const measure: WrongPageMeasure = {
    victim: backend.name,
    file: page.file,
    urlPath: page.urlPath,
    bounds,
    left,
    ...(leftAfterSeconds !== undefined ? { leftAfterSeconds } : {}),
    watchedSeconds,
    restore: outcome.restore,
    ...(outcome.error !== undefined ? { failure: describe(outcome.error) } : {}),
  };
  if (left && outcome.restore.restored && outcome.error === undefined) {
    const back = await watchTable(ctx, backend, true, bounds.returnWaitSeconds);
    measure.back = back !== undefined;
    if (back !== undefined) measure.backAfterSeconds = back;
  }
  return measure;
}

function describe(error: unknown): { kind: string; text: Text } {
  if (error instanceof RestoreStepError) return { kind: error.kind, text: error.text };
  if (isUnreadableOutput(error)) return { kind: "unreadable", text: error.text };
  if (error instanceof SshError) return { kind: `ssh-${error.kind}`, text: { es: error.message, en: error.message } };
  const message = error instanceof Error ? error.message : String(error);
  return { kind: "unexpected", text: { es: message, en: message } };
}
