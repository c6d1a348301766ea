/**
 * lvs.http-get's disruptive half on the real LVS lab (keepalived + IPVS in the qemu VM): with
 * --disruptive one web server's page is changed to a wrong text (journaled, its exact bytes
 * restored and verified); HTTP_GET takes the server out of the IPVS table within the bound its
 * timers give and puts it back after the page is restored. With TCP_CHECK only, the wrong page
 * stays in the pool and the check fails naming the HTTP_GET fix. Without --disruptive, nothing
 * is changed and the configuration half alone decides.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startVmLab, type VmLab } from "../../fixtures/vm/index.js";
import type { CheckResult } from "../../src/runner/types.js";
import { gradeSpecFile } from "../helpers/grade.js";

let lab: VmLab | undefined;
let journalDir: string;
let originalMd5: string;

const pageMd5 = async () => (await lab!.webserverExec("webserver1", "md5sum < /var/www/html/index.html")).stdout.slice(0, 32);

beforeAll(async () => {
  journalDir = mkdtempSync(join(tmpdir(), "hagrade-lvs-http-get-"));
  lab = await startVmLab({ variant: "http-get-correct" });
  originalMd5 = await pageMd5();
}, 300_000);

afterAll(async () => {
  await lab?.stop();
  rmSync(journalDir, { recursive: true, force: true });
}, 60_000);

async function httpGet(disruptive: boolean): Promise<CheckResult> {
  const result = await gradeSpecFile(lab!.specPath, { part: "lvs", disruptive, journalDir, only: ["net.vip-http", "lvs.http-get"] });
  return result.checks.find((c) => c.id === "lvs.http-get")!;
}

interface WrongPage {
  ran: boolean;
  victim: string;
  file: string;
  left: boolean;
  leftAfterSeconds?: number;
  watchedSeconds: number;
  back?: boolean;
  bounds: { removalWaitSeconds: number; returnWaitSeconds: number; delayLoop: number; connectTimeout: number };
}
const wrongPage = (c: CheckResult) => c.evidence.find((e) => e.kind === "http-get-wrong-page") as unknown as WrongPage | undefined;

it("without --disruptive judges the configuration only and changes nothing", async () => {
  const check = await httpGet(false);
  expect(check.outcome, check.message.en).toBe("pass");
  expect(check.message.en).toContain("--disruptive");
  expect(wrongPage(check)).toBeUndefined();
  expect(await pageMd5()).toBe(originalMd5);
}, 120_000);

it("with HTTP_GET: a wrong page takes the server out within the bound from keepalived.conf, and it returns once restored", async () => {
  const check = await httpGet(true);
  expect(check.outcome, check.message.en).toBe("pass");
  const m = wrongPage(check)!;
  expect(m).toMatchObject({ ran: true, victim: "webserver1", file: "/var/www/html/index.html", left: true, back: true });
  // The variant's timers: delay_loop 3, connect_timeout 3.
  expect(m.bounds).toMatchObject({ delayLoop: 3, connectTimeout: 3 });
  expect(m.leftAfterSeconds).toBeLessThanOrEqual(m.bounds.removalWaitSeconds);
  expect(check.message.en).toContain(`bound ${m.bounds.removalWaitSeconds} s`);
  // The exact original bytes are back, the journal is closed, and keepalived serves both again.
  expect(await pageMd5()).toBe(originalMd5);
  expect(readdirSync(journalDir)).toEqual([]);
  await lab!.waitForRealServers({ webserver1: 1, webserver2: 1 });
}, 240_000);

it("with TCP_CHECK only: the wrong page stays in the pool, and the fix names HTTP_GET", async () => {
  await lab!.setVariant("tcp-check-only");
  const check = await httpGet(true);
  expect(check.outcome, check.message.en).toBe("fail");
  const m = wrongPage(check)!;
  expect(m).toMatchObject({ ran: true, left: false });
  expect(m.watchedSeconds).toBeGreaterThanOrEqual(m.bounds.removalWaitSeconds);
  expect(check.message.en).toContain("stays in the pool");
  expect(check.message.es).toContain("sigue en el reparto");
  expect(check.fix?.en).toContain("HTTP_GET { url { path / digest");
  expect(await pageMd5()).toBe(originalMd5);
  expect(readdirSync(journalDir)).toEqual([]);
}, 240_000);
