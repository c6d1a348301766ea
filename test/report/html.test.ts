import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { htmlReporter } from "../../src/report/html.js";
import { allWords } from "../../src/report/i18n.js";
import type { Lang, RunResult } from "../../src/runner/types.js";
import { HOSTILE_MESSAGE, HOSTILE_PAGE, SECRET, brokenLab, passingLab, redact } from "./results.js";

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
    const n = loadfactor?.evidence[0]?.n;
    expect(xpath(file, "count(//article[@id='check-proxy.loadfactor']//*[local-name()='svg'][contains(@class,'sequence')]/*[local-name()='rect'])")).toBe(String(n));
    // The failover: a mark per request and a line per event.
    const failover = result.checks.find((c) => c.id === "proxy.failover")?.evidence[0];
    const marks = Array.isArray(failover?.timeline) ? failover.timeline.length : -1;
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
      expect(xpath(file, "count(//article[@id='check-proxy.modules']//section[contains(@class,'ev-generic')]//tr)")).toBe("2");
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
  it.skipIf(browserMissing !== undefined)(`renders in headless Chromium without dialogs or console errors${browserMissing ? ` — skipped: ${browserMissing}` : ""}`, async () => {
    const { chromium: launcher } = (await import(/* optional */ PLAYWRIGHT)) as {
      chromium: {
        launchPersistentContext(dir: string, o: object): Promise<{
          newPage(): Promise<{
            on(e: string, f: (x: { type?: () => string; text?: () => string; dismiss?: () => Promise<void> }) => void): void;
            goto(u: string): Promise<unknown>;
            screenshot(o: object): Promise<unknown>;
          }>;
          close(): Promise<void>;
        }>;
      };
    };
    for (const lang of ["es", "en"] as const) {
      const { file } = await render(brokenLab(), `browser-${lang}.html`, lang);
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
        await page.goto(`file://${file}`);
        await mkdir(join("reports", "screenshots"), { recursive: true });
        await page.screenshot({ path: join("reports", "screenshots", `scorecard-${lang}.png`), fullPage: true });
        expect(dialogs).toEqual([]);
        expect(errors).toEqual([]);
      } finally {
        await context.close();
        await rm(profile, { recursive: true, force: true });
      }
    }
  });
});
