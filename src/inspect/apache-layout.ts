/**
 * Apache as each distribution family lays it out. Debian: `apache2` service, `apache2ctl`,
 * /etc/apache2 with sites-available/ and `a2enmod`. RHEL family (CentOS, Rocky, Fedora):
 * `httpd` service, `apachectl`, /etc/httpd/conf.d/ (where the lab text puts
 * proxy-inverso.conf) and modules loaded by `LoadModule` lines in /etc/httpd/conf.modules.d/,
 * with no a2enmod at all.
 */
import { apacheModuleShortName, type ApacheConfigtest } from "./apache.js";
import { serviceCommand, type MachineFacts } from "./os.js";

interface Words {
  es: string;
  en: string;
}

export interface ApacheLayout {
  family: "debian" | "rhel";
  service: "apache2" | "httpd";
  /** The control command this machine has: apache2ctl, apachectl or httpd itself. */
  ctl: string;
  configDir: string;
  /** Where a site like proxy-inverso.conf goes. */
  siteDir: string;
}

export function apacheLayout(machine: MachineFacts): ApacheLayout {
  const has = (c: string) => machine.commands.has(c);
  // The commands the machine has win over what its os-release says (a hand-built Apache).
  const rhel = machine.family === "rhel" ? !has("a2enmod") && !has("apache2ctl") : !has("apache2ctl") && !has("a2enmod") && has("httpd");
  if (rhel) {
    return {
      family: "rhel",
      service: "httpd",
      ctl: has("apachectl") || !has("httpd") ? "apachectl" : "httpd",
      configDir: "/etc/httpd",
      siteDir: "/etc/httpd/conf.d",
    };
  }
  return {
    family: "debian",
    service: "apache2",
    // Debian ships apachectl as a link to apache2ctl.
    ctl: has("apache2ctl") || !has("apachectl") ? "apache2ctl" : "apachectl",
    configDir: "/etc/apache2",
    siteDir: "/etc/apache2/sites-available",
  };
}

/** conf.modules.d files of the httpd package that load each module the lab needs. */
const RHEL_MODULE_FILE: Record<string, string> = {
  proxy: "00-proxy.conf",
  proxy_http: "00-proxy.conf",
  proxy_balancer: "00-proxy.conf",
  lbmethod_byrequests: "00-proxy.conf",
  headers: "00-base.conf",
  access_compat: "00-base.conf",
  slotmem_shm: "00-base.conf",
};

/** `LoadModule proxy_http_module modules/mod_proxy_http.so`, as CentOS writes it. */
export function loadModuleLine(module: string): string {
  const short = apacheModuleShortName(module);
  return `LoadModule ${short}_module modules/mod_${short}.so`;
}

/** The lines that enable `modules` on this machine, and the restart that makes them count. */
export function enableModulesFix(machine: MachineFacts, modules: readonly string[]): Words {
  const layout = apacheLayout(machine);
  const restart = serviceCommand(machine, layout.service, "restart");
  const shorts = modules.map(apacheModuleShortName);
  if (layout.family === "debian") {
    const line = `a2enmod ${shorts.join(" ")} && ${restart}`;
    return { es: `En el balanceador: ${line}`, en: `On the balancer: ${line}` };
  }
  const byFile = new Map<string, string[]>();
  for (const m of shorts) {
    const file = `${layout.configDir}/conf.modules.d/${RHEL_MODULE_FILE[m] ?? "00-base.conf"}`;
    byFile.set(file, [...(byFile.get(file) ?? []), loadModuleLine(m)]);
  }
  const es = [...byFile].map(([file, lines]) => `${lines.join(" y ")} en ${file}`).join("; ");
  const en = [...byFile].map(([file, lines]) => `${lines.join(" and ")} in ${file}`).join("; ");
  return {
    es: `En el balanceador (CentOS/RHEL no tiene a2enmod): añada o descomente ${es}, y ${restart}.`,
    en: `On the balancer (CentOS/RHEL has no a2enmod): add or uncomment ${en}, then ${restart}.`,
  };
}

/**
 * Modules whose absence explains a configtest failure (LAB-FACTS): a directive Apache does not
 * know, or `ProxyPass unknown lbmethod` when proxy_balancer or lbmethod_byrequests is off.
 */
export function modulesMissingFromConfigtest(configtest: ApacheConfigtest): string[] {
  const byCommand: Record<string, string[]> = {
    order: ["access_compat"],
    allow: ["access_compat"],
    deny: ["access_compat"],
    header: ["headers"],
    proxypass: ["proxy"],
    proxypassreverse: ["proxy"],
    balancermember: ["proxy"],
    "<proxy": ["proxy"],
  };
  const missing = new Set<string>();
  for (const error of configtest.errors) {
    const command = error.invalidCommand?.toLowerCase();
    for (const m of (command !== undefined ? byCommand[command] : undefined) ?? []) missing.add(m);
    if (/unknown lbmethod/i.test(error.message)) {
      missing.add("proxy_balancer");
      missing.add("lbmethod_byrequests");
    }
  }
  return [...missing];
}
