/**
 * Which machine a lab host is (Debian or RHEL family) and the names hagrade then uses: the Apache
 * control command, the service, and the fix that enables a module (a2enmod on Debian, a LoadModule
 * line in /etc/httpd/conf.modules.d/ on CentOS). Configtest errors come from the real Apache.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseApacheConfigtest } from "../../src/inspect/index.js";
import { apacheLayout, enableModulesFix, loadModuleLine, modulesMissingFromConfigtest } from "../../src/inspect/apache-layout.js";
import { MACHINE_FACTS_COMMAND, parseMachineFacts, serviceCommand } from "../../src/inspect/os.js";

const DEBIAN_OS = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n';
const CENTOS_OS = 'NAME="CentOS Linux"\nVERSION="7 (Core)"\nID="centos"\nID_LIKE="rhel fedora"\nVERSION_ID="7"\nPRETTY_NAME="CentOS Linux 7 (Core)"\n';

const facts = (os: string, commands: string[], init: string[] = []) =>
  parseMachineFacts(`${os}@@hagrade-commands@@\n${commands.join("\n")}\n@@hagrade-init@@\n${init.join("\n")}\n`);

describe("the machine a lab host is", () => {
  it("reads this machine with the command hagrade sends (a real Debian with Apache)", () => {
    const out = spawnSync("sh", ["-c", MACHINE_FACTS_COMMAND], { encoding: "utf8", env: { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" } });
    expect(out.status).toBe(0);
    const machine = parseMachineFacts(out.stdout);
    expect(machine.family).toBe("debian");
    expect(machine.commands.has("apache2ctl")).toBe(true);
    expect(machine.commands.has("a2enmod")).toBe(true);
    expect(apacheLayout(machine)).toMatchObject({ family: "debian", service: "apache2", ctl: "apache2ctl", siteDir: "/etc/apache2/sites-available" });
  });

  it("names CentOS's httpd, apachectl and /etc/httpd, and systemd's or SysV's service command", () => {
    const centos7 = facts(CENTOS_OS, ["apachectl", "httpd", "systemctl", "service", "firewall-cmd"], ["systemd", "firewalld"]);
    expect(centos7).toMatchObject({ family: "rhel", systemd: true, firewalldRunning: true });
    expect(apacheLayout(centos7)).toEqual({ family: "rhel", service: "httpd", ctl: "apachectl", configDir: "/etc/httpd", siteDir: "/etc/httpd/conf.d" });
    expect(serviceCommand(centos7, "httpd", "restart")).toBe("systemctl restart httpd");
    const centos6 = facts(CENTOS_OS, ["apachectl", "httpd", "service"]);
    expect(serviceCommand(centos6, "httpd", "restart")).toBe("service httpd restart");
    const debianSysV = facts(DEBIAN_OS, ["apache2ctl", "apachectl", "apache2", "a2enmod", "systemctl", "service"]);
    expect(serviceCommand(debianSysV, "apache2", "stop")).toBe("service apache2 stop");
    expect(apacheLayout(debianSysV).ctl).toBe("apache2ctl");
  });

  it("falls back on the commands when os-release is missing or unknown, and survives CRLF output", () => {
    expect(facts("cat: /etc/os-release: No such file or directory\n", ["httpd", "apachectl"]).family).toBe("rhel");
    expect(facts("", ["apache2ctl", "a2enmod"]).family).toBe("debian");
    expect(facts('ID=arch\n', []).family).toBe("other");
    const crlf = parseMachineFacts(`${CENTOS_OS}@@hagrade-commands@@\napachectl\nhttpd\n@@hagrade-init@@\nsystemd\n`.replace(/\n/g, "\r\n"));
    expect(crlf).toMatchObject({ family: "rhel", systemd: true });
    expect([...crlf.commands].sort()).toEqual(["apachectl", "httpd"]);
  });

  it("gives the fix in each family's words: a2enmod on Debian, LoadModule lines on CentOS", () => {
    const debian = enableModulesFix(facts(DEBIAN_OS, ["apache2ctl", "a2enmod", "service"]), ["proxy_http", "headers"]);
    expect(debian.en).toBe("On the balancer: a2enmod proxy_http headers && service apache2 restart");
    expect(debian.es).toContain("a2enmod proxy_http headers");
    const centos = enableModulesFix(facts(CENTOS_OS, ["apachectl", "httpd", "systemctl"], ["systemd"]), ["proxy_http", "headers"]);
    expect(centos.en).toContain("LoadModule proxy_http_module modules/mod_proxy_http.so in /etc/httpd/conf.modules.d/00-proxy.conf");
    expect(centos.en).toContain("LoadModule headers_module modules/mod_headers.so in /etc/httpd/conf.modules.d/00-base.conf");
    expect(centos.en).toContain("systemctl restart httpd");
    expect(centos.es).toContain("systemctl restart httpd");
    expect(centos.en).not.toMatch(/a2enmod \w/);
    expect(loadModuleLine("mod_lbmethod_byrequests")).toBe("LoadModule lbmethod_byrequests_module modules/mod_lbmethod_byrequests.so");
  });
});

describe("modules a configtest failure points to (the real Apache)", () => {
  const dir = mkdtempSync(join(tmpdir(), "hagrade-httpd-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A CentOS-style tree in `dir` loading `modules`, with the lab text's site, then `apache2 -t`. */
  function configtest(modules: string[]): string {
    const root = join(dir, modules.join("-") || "none");
    mkdirSync(join(root, "conf.modules.d"), { recursive: true });
    mkdirSync(join(root, "conf"), { recursive: true });
    symlinkSync("/usr/lib/apache2/modules", join(root, "modules"));
    writeFileSync(join(root, "conf.modules.d", "00-lab.conf"), ["mpm_event", "authz_core", ...modules].map(loadModuleLine).join("\n") + "\n");
    writeFileSync(
      join(root, "conf", "httpd.conf"),
      [
        `ServerRoot "${root}"`,
        "Listen 127.0.0.1:8089",
        "ServerName localhost",
        `DefaultRuntimeDir "${root}"`,
        `PidFile "${root}/httpd.pid"`,
        `ErrorLog "${root}/error_log"`,
        "Include conf.modules.d/*.conf",
        "<VirtualHost 127.0.0.1:8089>",
        '    Header add Set-Cookie "ROUTEID=.%{BALANCER_WORKER_ROUTE}e; path=/" env=BALANCER_ROUTE_CHANGED',
        "    ProxyPass / balancer://micluster/ lbmethod=byrequests stickysession=ROUTEID",
        "    <Proxy balancer://micluster>",
        "        Order deny,allow",
        "        Allow from all",
        "        BalancerMember http://127.0.0.1:8090 route=wsrv1",
        "    </Proxy>",
        "</VirtualHost>",
      ].join("\n") + "\n",
    );
    const out = spawnSync("/usr/sbin/apache2", ["-d", root, "-f", "conf/httpd.conf", "-t"], { encoding: "utf8" });
    return `${out.stdout}${out.stderr}`;
  }

  const all = ["proxy", "proxy_http", "proxy_balancer", "lbmethod_byrequests", "headers", "access_compat", "slotmem_shm"];

  it("passes with every module, and names the one whose directive Apache does not know", () => {
    expect(parseApacheConfigtest(configtest(all)).syntaxOk).toBe(true);
    expect(modulesMissingFromConfigtest(parseApacheConfigtest(configtest(all.filter((m) => m !== "headers"))))).toEqual(["headers"]);
    expect(modulesMissingFromConfigtest(parseApacheConfigtest(configtest(all.filter((m) => m !== "access_compat"))))).toEqual(["access_compat"]);
  });

  it("points to the balancer modules when the lbmethod is unknown", () => {
    const missing = modulesMissingFromConfigtest(parseApacheConfigtest(configtest(all.filter((m) => m !== "lbmethod_byrequests"))));
    expect(missing).toContain("lbmethod_byrequests");
  });
});
