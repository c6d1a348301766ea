/**
 * The reference lab laid out the CentOS way (variant rhel-layout: balancer and webserver1 with
 * /etc/httpd, `httpd`, `apachectl`, no apache2ctl nor a2enmod): hagrade grades it fully, failover
 * included (the default stop command finds `service httpd`), and on a CentOS balancer without
 * proxy_http the fix is the LoadModule line, not a2enmod.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { referenceCheckIds, startLab, type Lab } from "../../fixtures/netns/index.js";
import type { GradeOptions } from "../../src/runner/grade.js";
import type { RunResult } from "../../src/runner/types.js";
import { gradeSpecFile } from "../helpers/grade.js";

const labs: Lab[] = [];
let rhel: Lab;
let broken: Lab;

beforeAll(async () => {
  const started = await Promise.allSettled([startLab({ variant: "rhel-layout" }), startLab({ variant: "rhel-no-proxy-http" })]);
  for (const s of started) if (s.status === "fulfilled") labs.push(s.value);
  const failed = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed) throw failed.reason;
  [rhel, broken] = labs as [Lab, Lab];
}, 180_000);

afterAll(async () => {
  await Promise.allSettled(labs.map((l) => l.stop()));
});

function grade(lab: Lab, options: Partial<GradeOptions>): Promise<RunResult> {
  return gradeSpecFile(lab.specPath, { part: "proxy", journalDir: join(lab.stateDir, "journal"), ...options });
}

describe("a lab built on CentOS", () => {
  it("looks like CentOS from inside its hosts, and nothing of it leaks onto the machine", async () => {
    for (const host of ["balancer", "ws1"] as const) {
      const view = await rhel.hostExec(
        host,
        ". /etc/os-release; echo \"id=$ID like=$ID_LIKE\"; for c in apache2ctl a2enmod apachectl httpd; do command -v $c || echo \"no $c\"; done; " +
          "ls -d /etc/apache2 2>/dev/null || echo 'no /etc/apache2'; ls /etc/httpd/conf.modules.d; service apache2 status >/dev/null 2>&1; echo \"service apache2: $?\"; service httpd status",
      );
      expect(view.stdout, host).toContain('id=centos like=rhel fedora');
      expect(view.stdout, host).toContain("no apache2ctl");
      expect(view.stdout, host).toContain("no a2enmod");
      expect(view.stdout, host).toContain("/usr/sbin/apachectl");
      expect(view.stdout, host).toContain("no /etc/apache2");
      expect(view.stdout, host).toContain("00-proxy.conf");
      expect(view.stdout, host).not.toContain("service apache2: 0");
      expect(view.stdout, host).toContain("httpd is running");
    }
    const site = await rhel.hostExec("balancer", "cat /etc/httpd/conf.d/proxy-inverso.conf");
    expect(site.stdout).toContain("BalancerMember http://");
    expect((await rhel.hostExec("ws2", "command -v apache2ctl")).stdout.trim()).toBe("/usr/sbin/apache2ctl");
    expect(existsSync("/etc/httpd")).toBe(false);
    expect(existsSync("/usr/sbin/httpd")).toBe(false);
  });

  it("passes every check, failover included, naming the machine's family in the evidence", async () => {
    const result = await grade(rhel, { disruptive: true });
    const summary = result.checks.map((c) => `${c.id}: ${c.outcome} — ${c.message.en}`).join("\n");
    expect(result.checks.map((c) => c.id).sort()).toEqual([...referenceCheckIds].sort());
    for (const c of result.checks) expect(c.outcome, summary).toBe("pass");
    const modules = result.checks.find((c) => c.id === "proxy.modules")!;
    expect(modules.evidence).toContainEqual(expect.objectContaining({ kind: "apache-modules", family: "rhel", os: "CentOS Linux 7 (Core)" }));
    const commands = JSON.stringify(modules.evidence);
    expect(commands).toContain("apachectl -M");
    expect(commands).not.toContain("apache2ctl -M");
    // The failover stopped and started webserver1 with CentOS's service name, and left it running.
    expect((await rhel.hostExec("ws1", "service httpd status")).code).toBe(0);
  }, 300_000);

  it("fails proxy.modules on a CentOS balancer without proxy_http, with the LoadModule line as the fix", async () => {
    for (const lang of ["en", "es"] as const) {
      const result = await grade(broken, { lang, only: ["proxy.modules"] });
      const check = result.checks[0]!;
      expect(check.outcome, check.message.en).toBe("fail");
      expect(check.message.en).toContain("proxy_http");
      expect(check.fix?.[lang]).toContain("LoadModule proxy_http_module modules/mod_proxy_http.so");
      expect(check.fix?.[lang]).toContain("/etc/httpd/conf.modules.d/00-proxy.conf");
      expect(check.fix?.[lang]).toContain("service httpd restart");
      expect(check.fix?.[lang]).not.toMatch(/a2enmod \w/);
    }
  }, 120_000);
});
