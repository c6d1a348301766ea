/**
 * The configuration reader against the real Apache 2.4 of this machine: for each site file,
 * `apache2 -t` (parse only, no server started) must fail exactly when the reader reports a
 * syntax problem, and on the same line.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { parseApacheConfig, parseApacheConfigtest } from "../../src/inspect/index.js";
import { fixture, hasCommand, run } from "./helpers.js";

const MODULES = "/usr/lib/apache2/modules";
/** Problems Apache itself rejects at configuration time (the others show only at run time). */
const SYNTAX_CODES = new Set([
  "stray-parameter-line",
  "unmatched-section-close",
  "mismatched-section-close",
  "unclosed-section",
  "continuation-with-trailing-space",
  "invalid-parameter",
]);

const VARIANTS: Record<string, string> = {
  "fixed lab file": fixture("apache/proxy-inverso.fixed.conf"),
  "lab listing as printed": fixture("apache/proxy-inverso.as-printed.conf"),
  "first lab listing": fixture("apache/proxy-inverso.first-listing.conf"),
  "backslash followed by spaces": [
    "<VirtualHost *:80>",
    "    ProxyPass / balancer://c/ lbmethod=byrequests \\   ",
    "        stickysession=ROUTEID",
    "    <Proxy balancer://c>",
    "        BalancerMember http://10.221.1.11 route=a",
    "    </Proxy>",
    "</VirtualHost>",
  ].join("\n"),
  "proper continuation and odd case": [
    "<virtualhost *:80>",
    "    PROXYPASS / balancer://C/ lbmethod=byrequests \\",
    "        stickysession=ROUTEID",
    '    header add Set-Cookie "ROUTEID=.%{BALANCER_WORKER_ROUTE}e; path=/" \\',
    "        env=BALANCER_ROUTE_CHANGED",
    "    <PROXY balancer://c>",
    "        balancermember http://10.221.1.11 route=a",
    "    </proxy>",
    "</VIRTUALHOST>",
  ].join("\n"),
  "closing tag of the wrong section": [
    "<VirtualHost *:80>",
    "    ProxyPass / balancer://c/",
    "    <Proxy balancer://c>",
    "        BalancerMember http://10.221.1.11",
    "</VirtualHost>",
  ].join("\n"),
  "section never closed": ["<VirtualHost *:80>", "    ProxyPass / http://10.221.1.11/", ""].join("\n"),
  "parameter that is not key=value": ["<Proxy balancer://c>", "    BalancerMember http://10.221.1.11 loadfactor", "</Proxy>"].join("\n"),
};

const canRun = hasCommand("apache2");

describe.skipIf(!canRun)("parseApacheConfig agrees with apache2 -t", () => {
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "hgtest-inspect-apache-"));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const [name, site] of Object.entries(VARIANTS)) {
    it(name, () => {
      const sitePath = join(dir, "site.conf");
      const mainPath = join(dir, "main.conf");
      writeFileSync(sitePath, site);
      // A global ServerName and "*" vhosts keep Apache from any DNS lookup.
      writeFileSync(
        mainPath,
        [
          "ServerRoot /etc/apache2",
          "ServerName localhost",
          `PidFile ${join(dir, "apache.pid")}`,
          `ErrorLog ${join(dir, "error.log")}`,
          ...[
            ["mpm_event", "mpm_event"],
            ["authz_core", "authz_core"],
            ["access_compat", "access_compat"],
            ["proxy", "proxy"],
            ["proxy_http", "proxy_http"],
            ["slotmem_shm", "slotmem_shm"],
            ["proxy_balancer", "proxy_balancer"],
            ["lbmethod_byrequests", "lbmethod_byrequests"],
            ["headers", "headers"],
          ].map(([module, file]) => `LoadModule ${module}_module ${MODULES}/mod_${file}.so`),
          `Include ${sitePath}`,
          "",
        ].join("\n"),
      );
      const apache = run("apache2", ["-f", mainPath, "-t"]);
      const verdict = parseApacheConfigtest(apache.stderr + apache.stdout);
      const parsed = parseApacheConfig(site, { file: sitePath });
      const syntaxProblems = parsed.problems.filter((problem) => SYNTAX_CODES.has(problem.code) && problem.severity === "error");
      expect(verdict.syntaxOk, apache.stderr).toBe(apache.status === 0);
      expect(syntaxProblems.length === 0, JSON.stringify({ apache: apache.stderr, parsed: syntaxProblems })).toBe(apache.status === 0);
      if (apache.status !== 0) {
        const firstLine = Math.min(...syntaxProblems.map((problem) => problem.line ?? Infinity));
        expect(verdict.errors[0]?.file).toBe(sitePath);
        expect(firstLine).toBe(verdict.errors[0]?.line);
      }
    });
  }
});
