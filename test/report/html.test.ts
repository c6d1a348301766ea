import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { htmlReporter } from "../../src/report/html.js";
import { allWords } from "../../src/report/i18n.js";
import { hagrade } from "../cli/hagrade.js";
import type { Lang, RunResult } from "../../src/runner/types.js";
import { HOSTILE_MESSAGE, HOSTILE_PAGE, SECRET, brokenLab, passingLab, redact, vrrpLab } from "./results.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "hagrade-html-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function render(result: RunResult, name: string, lang: Lang): Promise<{ file: string; html: string }> {
  const file = join(dir, name);
  const written = await htmlReporter(file, { lang, redact }).onEnd?.(result);
  expect(written).toEqual([file]);
  return { file, html: await readFile(file, "utf8") };
}

/** XPath over the page as libxml2's HTML parser (an independent one) reads it. */
function xpath(file: string, expr: string): string {
  const r = spawnSync("xmllint", ["--html", "--xpath", expr, file], { encoding: "utf8" });
  // libxml2's HTML parser warns about SVG tags it does not know; the result is still printed.
  if (!r.stdout) throw new Error(`xmllint --html --xpath ${expr}: ${r.stderr}`);
  return r.stdout.trim();
}

describe("HTML scorecard", () => {
  it("has the score, the counts and one card per check with its evidence drawn", async () => {
    const result = passingLab();
    const { file, html } = await render(result, "pass-en.html", "en");
    expect(xpath(file, "count(//article[contains(@class,'card')])")).toBe(String(result.checks.length));
    expect(xpath(file, "string(//span[@class='big'])")).toBe(String(result.score));
    expect(xpath(file, "string(//html/@lang)")).toBe("en");
    for (const c of result.checks) expect(xpath(file, `count(//article[@id='check-${c.id}'])`)).toBe("1");
    // The sample: one block per request.
    const loadfactor = result.checks.find((c) => c.id === "proxy.loadfactor");
    const sample = loadfactor?.evidence[0];
    const n = sample?.kind === "sample" ? sample.n : -1;
    expect(xpath(file, "count(//article[@id='check-proxy.loadfactor']//*[local-name()='svg'][contains(@class,'sequence')]/*[local-name()='rect'])")).toBe(String(n));
    // The failover: a mark per request and a line per event.
    const failover = result.checks.find((c) => c.id === "proxy.failover")?.evidence[0];
    const marks = failover?.kind === "failover" ? failover.timeline.length : -1;
    expect(
      xpath(file, "count(//article[@id='check-proxy.failover']//*[local-name()='svg'][contains(@class,'timeline')]/*[local-name()='circle' or local-name()='rect'])"),
    ).toBe(String(marks));
    expect(xpath(file, "count(//article[@id='check-proxy.failover']//*[local-name()='svg'][contains(@class,'timeline')]/*[local-name()='line'][@stroke-dasharray])")).toBe("3");
    expect(xpath(file, "count(//article[@id='check-proxy.failover']//details)")).toBe("2");
    expect(xpath(file, "count(//article[@id='check-proxy.routeid-cookie']//tbody/tr)")).toBe("2");
    expect(html).toContain("Passed");
  });

  it("marks errors in red in the sequence and the timeline of a broken lab", async () => {
    const { file } = await render(brokenLab(), "broken-en.html", "en");
    const redBlocks = xpath(file, "count(//article[@id='check-proxy.loadfactor']//*[local-name()='svg'][contains(@class,'sequence')]/*[@fill='#c62828'])");
    expect(redBlocks).toBe("2");
    expect(Number(xpath(file, "count(//article[@id='check-proxy.failover']//*[local-name()='svg'][contains(@class,'timeline')]/*[local-name()='rect'][@fill='#c62828'])"))).toBeGreaterThan(0);
    expect(xpath(file, "string(//article[@id='check-proxy.routeid-cookie']//span[contains(@class,'badge')])")).toContain("Skipped");
  });

  it("has the lab's facts on top: counts per outcome, date, duration and hagrade version", async () => {
    const result = brokenLab();
    for (const [lang, date, duration, counts] of [
      ["en", "10 March 2025", "93.5 s", ["failed", "grader error", "inconclusive", "passed", "skipped"]],
      ["es", "10 de marzo de 2025", "93,5 s", ["fallidas", "fallo del evaluador", "no concluyente", "superada", "omitida"]],
    ] as const) {
      const { file } = await render(result, `facts-${lang}.html`, lang);
      const w = (await import("../../src/report/i18n.js")).WORDS[lang];
      const fact = (name: string) => xpath(file, `string(//header//dl/div[dt='${name}']/dd)`);
      expect(fact(w.date)).toContain(date);
      expect(fact(w.date)).toContain("10:00 UTC");
      expect(fact(w.duration)).toBe(duration);
      expect(fact(w.version)).toBe(result.tool.version);
      expect(fact(w.httpRequests)).toBe("512");
      // Failures first, each noun in the number its count asks for.
      const symbols = ["✘", "!", "?", "✔", "–"];
      const tally = [result.counts.fail, result.counts.error, result.counts.inconclusive, result.counts.pass, result.counts.skipped];
      expect(tally).toEqual([2, 1, 1, 1, 1]);
      for (const [i, word] of counts.entries()) expect(xpath(file, `string(//header/ul[@class='counts']/li[${i + 1}])`)).toBe(`${symbols[i]} ${tally[i]} ${word}`);
    }
  });

  it("opens on the overview: fix next in rubric order, then every check failures first, each row linked to its card", async () => {
    const result = brokenLab();
    const { file } = await render(result, "overview-en.html", "en");
    // The overview and the fix-next list come before the first card.
    expect(xpath(file, "count(//section[@id='overview'][following::article[contains(@class,'card')]])")).toBe("1");
    expect(xpath(file, "count(//section[@id='fix-next'][following::section[@id='overview']])")).toBe("1");
    const rowIds = Array.from({ length: result.checks.length }, (_, i) => xpath(file, `string(//section[@id='overview']//tbody/tr[${i + 1}]/td[1]//code)`));
    expect(rowIds).toEqual(["net.vip-http", "proxy.failover", "proxy.modules", "proxy.loadfactor", "proxy.sticky", "proxy.routeid-cookie"]);
    for (const [i, id] of rowIds.entries()) {
      const c = result.checks.find((x) => x.id === id)!;
      const row = `//section[@id='overview']//tbody/tr[${i + 1}]`;
      expect(xpath(file, `string(${row}/@class)`)).toBe(`row-${c.outcome}`);
      expect(xpath(file, `string(${row}//a/@href)`)).toBe(`#check-${id}`);
      expect(xpath(file, `count(//article[@id='check-${id}'])`)).toBe("1");
      expect(xpath(file, `string(${row}/td[3])`)).toBe(`${c.points}/${c.maxPoints}`);
      // One line of the message, never the whole story.
      expect(xpath(file, `string(${row}/td[4])`)).not.toContain("\n");
    }
    // Fix next: only the failed checks, in the rubric's order, each linked to its card.
    expect(xpath(file, "count(//section[@id='fix-next']//li)")).toBe("2");
    expect(xpath(file, "string(//section[@id='fix-next']//li[1]//a/@href)")).toBe("#check-net.vip-http");
    expect(xpath(file, "string(//section[@id='fix-next']//li[2]//a/@href)")).toBe("#check-proxy.failover");
    expect(xpath(file, "string(//section[@id='fix-next']//li[2])")).toContain("Check that webserver2 is in the balancer.");
    // A filter per outcome that happened, plus "all".
    expect(xpath(file, "count(//input[@name='show'])")).toBe("6");

    // A lab where everything passed: no zero counts, one filter besides "all", nothing to fix.
    const ok = await render(passingLab(), "overview-pass-en.html", "en");
    expect(xpath(ok.file, "count(//header/ul[@class='counts']/li)")).toBe("1");
    expect(xpath(ok.file, "string(//header/ul[@class='counts']/li)")).toBe(`✔ ${passingLab().checks.length} passed`);
    expect(xpath(ok.file, "count(//input[@name='show'])")).toBe("2");
    expect(xpath(ok.file, "count(//section[@id='fix-next']//li)")).toBe("0");
    expect(xpath(ok.file, "string(//section[@id='fix-next']/p)")).toBe("Nothing to fix: no check failed.");
  });

  it("draws each share with its confidence interval's whiskers and the expected share's mark", async () => {
    const result = passingLab();
    const { file } = await render(result, "ci-en.html", "en");
    const ratio = result.checks.find((c) => c.id === "proxy.loadfactor")?.evidence.flatMap((e) => (e.kind === "sample" && e.ratio ? [e.ratio] : []))[0] as { ci: { shares: Record<string, [number, number]> }; expectedShares: Record<string, number> };
    const chart = "//article[@id='check-proxy.loadfactor']//*[local-name()='svg'][contains(@class,'chart')]";
    // The chart's scale: a share s is drawn at x = 120 + 260·s.
    const x = (share: number) => (120 + share * 260).toFixed(1);
    for (const [i, backend] of ["webserver1", "webserver2"].entries()) {
      const [lo, hi] = ratio.ci.shares[backend]!;
      const ci = `(${chart}/*[local-name()='g'][@class='ci'])[${i + 1}]`;
      expect(xpath(file, `count(${ci}/*[local-name()='line'])`)).toBe("3");
      expect(xpath(file, `string(${ci}/*[local-name()='line'][1]/@x1)`)).toBe(x(lo));
      expect(xpath(file, `string(${ci}/*[local-name()='line'][1]/@x2)`)).toBe(x(hi));
      const mark = `(${chart}/*[local-name()='rect'][@class='expected'])[${i + 1}]`;
      expect(Number(xpath(file, `string(${mark}/@x)`)) + 1.5).toBeCloseTo(Number(x(ratio.expectedShares[backend]!)), 1);
      expect(xpath(file, `string(${mark}/*[local-name()='title'])`)).toBe(`expected ${(ratio.expectedShares[backend]! * 100).toFixed(1)} %`);
    }
  });

  it("draws proxy.sticky's cookie trace as a table: request, cookie sent, server reached, Set-Cookie received", async () => {
    const result = passingLab();
    const { file } = await render(result, "sticky-en.html", "en");
    const trace = result.checks.find((c) => c.id === "proxy.sticky")?.evidence.flatMap((e) => (e.kind === "sample" && e.trace ? [e.trace] : []))[0] as { seq: number; label: string; sent: string | null; set: string[] }[];
    const table = "//article[@id='check-proxy.sticky']//table[@class='trace']";
    expect(xpath(file, `string(${table}/thead)`)).toBe("RequestCookie sentServer that answeredSet-Cookie received");
    expect(xpath(file, `count(${table}/tbody/tr)`)).toBe(String(trace.length));
    for (const [i, row] of trace.entries()) {
      const cell = (n: number) => xpath(file, `string(${table}/tbody/tr[${i + 1}]/td[${n}])`);
      expect(cell(1)).toBe(String(row.seq));
      expect(cell(2)).toBe(row.sent ?? "-");
      expect(cell(3)).toBe(row.label);
      expect(cell(4)).toBe(row.set.join("\n") || "-");
    }
    // Its samples are named in the page's language.
    const es = await render(result, "sticky-es.html", "es");
    expect(xpath(es.file, "string(//article[@id='check-proxy.sticky']//section[contains(@class,'ev-sample')][2]/h5)")).toMatch(/^Muestra con cookie \(conexión persistente; 6 peticiones/);
    expect(xpath(es.file, "string(//article[@id='check-proxy.sticky']//section[contains(@class,'ev-sample')][3]/h5)")).toMatch(/^Muestra cookie falsificada \.wsrv2 /);
  });

  it("keeps a hostile Set-Cookie in the trace as text", async () => {
    const { file } = await render(brokenLab(), "sticky-hostile.html", "en");
    expect(xpath(file, "string(//article[@id='check-proxy.sticky']//table[@class='trace']/tbody/tr[1]/td[4])")).toContain(HOSTILE_PAGE);
    expect(xpath(file, "count(//script|//img|//@onerror|//@onload)")).toBe("0");
  });

  it("draws lvs.vrrp-failover as a timeline with its outage time, not as a table of JSON", async () => {
    const result = vrrpLab();
    const evidence = result.checks[0]!.evidence[0]!;
    const { file } = await render(result, "vrrp-es.html", "es");
    const card = "//article[@id='check-lvs.vrrp-failover']";
    expect(xpath(file, `count(${card}//section[contains(@class,'ev-generic')])`)).toBe("0");
    const svg = `${card}//*[local-name()='svg'][contains(@class,'timeline')]`;
    expect(xpath(file, `count(${svg}/*[local-name()='circle' or (local-name()='rect' and not(@class))])`)).toBe(String(evidence.kind === "vrrp-failover" ? evidence.timeline.length : -1));
    expect(xpath(file, `count(${svg}/*[local-name()='line'][@stroke-dasharray])`)).toBe(String(evidence.kind === "vrrp-failover" ? evidence.events.length : -1));
    expect(xpath(file, `count(${svg}/*[local-name()='rect'][@class='outage'])`)).toBe("1");
    expect(xpath(file, `string(${card}//b[@class='outage-time'])`)).toBe("la VIP volvió a servir a los 3,8 s");
    expect(xpath(file, `string(${card}//section[contains(@class,'ev-vrrp')]/p)`)).toContain("10.0.0.2 → 10.0.0.3");
    const broken = await render(vrrpLab(false), "vrrp-broken-en.html", "en");
    expect(xpath(broken.file, `string(${card}//section[contains(@class,'ev-vrrp')]/p)`)).toContain("the VIP did not serve again; 40 failed requests");
    expect(xpath(broken.file, `count(${card}//*[local-name()='rect'][@class='outage'])`)).toBe("0");
  });

  it("colours failover events by what they are: stopping red, starting green, the rest neutral", async () => {
    const { file } = await render(vrrpLab(), "events-en.html", "en");
    const stroke = (check: string, event: string) =>
      xpath(file, `string(//article[@id='check-${check}']//*[local-name()='text'][@class='event'][.='${event}']/preceding-sibling::*[1]/@stroke)`);
    for (const event of ["asked to stop", "stop confirmed"]) expect(stroke("lvs.failover", event), event).toBe("#c62828");
    for (const event of ["asked to start", "start confirmed", "rejoined"]) expect(stroke("lvs.failover", event), event).toBe("#1b7f3b");
    expect(stroke("lvs.vrrp-failover", "stop keepalived on the MASTER")).toBe("#c62828");
    expect(stroke("lvs.vrrp-failover", "started (verified)")).toBe("#1b7f3b");
    expect(stroke("lvs.vrrp-failover", "MASTER released the VIP")).toBe("#455a64");
  });

  for (const lang of ["es", "en"] as const) {
    it(`shows hostile lab text only escaped and never the secret (${lang})`, async () => {
      const { file, html } = await render(brokenLab(), `hostile-${lang}.html`, lang);
      expect(html).not.toContain(SECRET);
      expect(html).not.toMatch(/<script/i);
      expect(html).not.toMatch(/<img/i);
      expect(html).not.toMatch(/<[a-z][^>]*\son(error|load)\s*=/i);
      expect(html).not.toContain(HOSTILE_MESSAGE);
      expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;");
      expect(html).toContain("&quot;&gt;&lt;svg onload=alert(3)&gt;");
      // An independent parser sees the hostile text as text, not as elements or attributes.
      expect(xpath(file, "count(//script|//img|//@onerror|//@onload)")).toBe("0");
      expect(xpath(file, "string(//article[@id='check-net.vip-http']//p[@class='message'])")).toContain(HOSTILE_PAGE);
      expect(xpath(file, "string(//title)")).toContain(`Luis <b>Pérez</b> & "Co"`);
      // The unknown evidence kind is an escaped table of its fields.
      expect(xpath(file, "count(//article[@id='check-proxy.modules']//section[contains(@class,'ev-legacy')]//tr)")).toBe("2");
    });
  }

  it("loads nothing from the network", async () => {
    for (const [result, lang] of [[passingLab(), "es"], [brokenLab(), "en"]] as const) {
      const { file, html } = await render(result, `offline-${lang}.html`, lang);
      expect(xpath(file, "count(//*[@src]|//link|//*[local-name()='image'])")).toBe("0");
      expect(html).not.toMatch(/\b(?:src|href|xlink:href)\s*=\s*["']?\s*(?:https?:)?\/\//i);
      expect(html).not.toMatch(/url\(|@import/i);
    }
  });

  it("writes the Spanish page with no English words of the dictionary", async () => {
    const { file, html } = await render(passingLab(), "pass-es.html", "es");
    expect(xpath(file, "string(//html/@lang)")).toBe("es");
    const spanish = new Set(allWords("es"));
    const englishOnly = allWords("en").filter((word) => !spanish.has(word) && word.length > 2);
    expect(englishOnly.length).toBeGreaterThan(40);
    // Visible text only: the style sheet and class names are not read by anyone.
    const text = `${xpath(file, "string(//title)")} ${xpath(file, "string(/html/body)")}`;
    const found = englishOnly.filter((word) => new RegExp(`(^|[^\\p{L}])${word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}([^\\p{L}]|$)`, "u").test(text));
    expect(found).toEqual([]);
    expect(html).toContain("Superada");
    // The English page, by contrast, does contain them: the comparison can fail.
    const en = await render(passingLab(), "pass-en-words.html", "en");
    expect(englishOnly.filter((word) => en.html.includes(word)).length).toBeGreaterThan(5);
  });

  const chromium = "/usr/bin/chromium";
  // A variable specifier: playwright-core is optional, and absent from the typings when not installed.
  const PLAYWRIGHT: string = "playwright-core";
  const playwright = (() => {
    try {
      return createRequire(import.meta.url).resolve(PLAYWRIGHT);
    } catch {
      return undefined;
    }
  })();
  const browserMissing = !existsSync(chromium)
    ? `${chromium} is not installed (Debian package chromium)`
    : !playwright
      ? "playwright-core is not installed"
      : undefined;
  it.skipIf(browserMissing !== undefined)(`the page hagrade report --html writes renders in headless Chromium: the filter and the overview links work, nothing is fetched, it reads at 360 px, no dialogs or console errors${browserMissing ? ` — skipped: ${browserMissing}` : ""}`, async () => {
    const { chromium: launcher } = (await import(/* optional */ PLAYWRIGHT)) as {
      chromium: {
        launchPersistentContext(dir: string, o: object): Promise<{
          newPage(): Promise<{
            on(e: string, f: (x: { type?: () => string; text?: () => string; dismiss?: () => Promise<void>; url?: () => string }) => void): void;
            click(selector: string): Promise<void>;
            goto(u: string): Promise<unknown>;
            screenshot(o: object): Promise<unknown>;
            setViewportSize(size: { width: number; height: number }): Promise<void>;
            evaluate<T>(expression: string): Promise<T>;
            emulateMedia(o: { media: "print" | "screen" }): Promise<void>;
            pdf(o: object): Promise<Buffer>;
          }>;
          close(): Promise<void>;
        }>;
      };
    };
    // The page as the command line writes it (`hagrade report --html`, the built one with HAGRADE_CLI=dist).
    const saved = join(dir, "browser.json");
    await writeFile(saved, redact(JSON.stringify(brokenLab())));
    for (const lang of ["es", "en"] as const) {
      const file = join(dir, `browser-${lang}.html`);
      const written = await hagrade(["report", saved, "--html", file, "--lang", lang]);
      expect(written.code, written.stderr).toBe(3);
      const profile = await mkdtemp(join(tmpdir(), "hagrade-chromium-"));
      const context = await launcher.launchPersistentContext(profile, {
        executablePath: chromium,
        headless: true,
        args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      });
      try {
        const page = await context.newPage();
        const dialogs: string[] = [];
        const errors: string[] = [];
        page.on("dialog", (d) => {
          dialogs.push(d.type?.() ?? "dialog");
          void d.dismiss?.();
        });
        page.on("console", (m) => {
          if (m.type?.() === "error") errors.push(m.text?.() ?? "");
        });
        page.on("pageerror", (e) => errors.push(String(e)));
        // Offline: the page asks for nothing but itself.
        const requests: string[] = [];
        page.on("request", (r) => requests.push(r.url?.() ?? "?"));
        await page.goto(`file://${file}`);
        await mkdir(join("reports", "screenshots"), { recursive: true });
        await page.screenshot({ path: join("reports", "screenshots", `scorecard-${lang}.png`), fullPage: true });
        // The filter by outcome, without a script: "failed" leaves only the failed rows and cards.
        const shown = () =>
          page.evaluate<{ rows: string[]; cards: string[] }>(
            "({ rows: [...document.querySelectorAll('#overview tbody tr')].filter((e) => e.getClientRects().length > 0).map((e) => e.className), cards: [...document.querySelectorAll('article.card')].filter((e) => e.getClientRects().length > 0).map((e) => e.id) })",
          );
        expect((await shown()).rows).toHaveLength(6);
        await page.click("label[for=show-fail]");
        expect(await shown()).toEqual({ rows: ["row-fail", "row-fail"], cards: ["check-net.vip-http", "check-proxy.failover"] });
        await page.click("label[for=show-error]");
        expect(await shown()).toEqual({ rows: ["row-error"], cards: ["check-proxy.modules"] });
        await page.click("label[for=show-all]");
        expect((await shown()).cards).toHaveLength(6);
        // A row's link lands on its card.
        await page.click("#overview a[href='#check-proxy.modules']");
        const landed = await page.evaluate<{ hash: string; top: number; height: number }>(
          "({ hash: location.hash, top: document.getElementById('check-proxy.modules').getBoundingClientRect().top, height: window.innerHeight })",
        );
        expect(landed.hash).toBe("#check-proxy.modules");
        expect(landed.top).toBeGreaterThanOrEqual(-1);
        expect(landed.top).toBeLessThan(landed.height / 2);
        // On a phone (360 px wide): wide charts and tables scroll inside their box, the page itself never sideways.
        await page.setViewportSize({ width: 360, height: 780 });
        await page.goto(`file://${file}`);
        const phone = await page.evaluate<{ width: number; scrollWidth: number; bodyWidth: number; cards: number }>(
          "({ width: window.innerWidth, scrollWidth: document.documentElement.scrollWidth, bodyWidth: document.body.scrollWidth, cards: document.querySelectorAll('article.card').length })",
        );
        expect(phone.width).toBe(360);
        expect(phone.cards).toBeGreaterThan(0);
        expect(phone.scrollWidth, "the page is wider than the phone").toBeLessThanOrEqual(phone.width);
        expect(phone.bodyWidth).toBeLessThanOrEqual(phone.width);
        // The overview reads on a phone: no cell cut off or wider than the screen, text not shrunk.
        const cells = await page.evaluate<{ clipped: number; widest: number; smallestFont: number }>(
          "(() => { const tds = [...document.querySelectorAll('#overview td')]; return { clipped: tds.filter((e) => e.scrollWidth > e.clientWidth + 1).length, widest: Math.max(...tds.map((e) => e.getBoundingClientRect().right)), smallestFont: Math.min(...tds.map((e) => parseFloat(getComputedStyle(e).fontSize))) }; })()",
        );
        expect(cells.clipped).toBe(0);
        expect(cells.widest).toBeLessThanOrEqual(phone.width);
        expect(cells.smallestFont).toBeGreaterThanOrEqual(12);
        await page.screenshot({ path: join("reports", "screenshots", `scorecard-phone-${lang}.png`), fullPage: true });
        // Printed: the PDF Chromium writes for "print to PDF".
        await page.emulateMedia({ media: "print" });
        const pdf = await page.pdf({ path: join("reports", "screenshots", `scorecard-${lang}.pdf`), format: "A4", printBackground: true });
        expect(pdf.subarray(0, 5).toString("latin1")).toBe("%PDF-");
        expect(pdf.length).toBeGreaterThan(10_000);
        expect(dialogs).toEqual([]);
        expect(requests.filter((u) => !u.startsWith("file://"))).toEqual([]);
        expect(requests.length).toBeGreaterThan(0);
        expect(errors).toEqual([]);
      } finally {
        await context.close();
        await rm(profile, { recursive: true, force: true });
      }
    }
  }, 240_000);
});
