import { defineCheck, fail, inconclusive, pass, remote, text } from "../../src/runner/check.js";
import { hasApacheModule, parseApacheModules } from "../../src/inspect/index.js";

const REQUIRED = ["proxy", "proxy_http", "proxy_balancer", "lbmethod_byrequests", "headers"] as const;

/**
 * Part 2, step 2: the modules the reverse proxy needs. A missing proxy_http passes configtest
 * and turns every request into a 503 (LAB-FACTS), so the list itself is checked. stdout only:
 * stderr carries AH00558 noise.
 */
export default defineCheck({
  id: "proxy.modules",
  part: "proxy",
  title: text("Módulos de Apache del proxy inverso", "Apache modules of the reverse proxy"),
  points: 1,
  needs: ["ssh"],
  async run(ctx) {
    // Debian names it apache2ctl, RHEL apachectl.
    const r = await remote(ctx).exec("balancer", "if command -v apache2ctl >/dev/null 2>&1; then apache2ctl -M; else apachectl -M; fi", { sudo: true });
    const mods = parseApacheModules(r.stdout);
    const listed = [...mods.modules].sort();
    const evidence = [{ kind: "apache-modules", listed }];
    if (mods.failed || listed.length === 0) {
      return inconclusive(
        text("apache2ctl -M no listó módulos (¿la configuración no carga?).", "apache2ctl -M listed no modules (does the configuration load?)."),
        text("Ejecute apache2ctl configtest en el balanceador y corrija lo que indique.", "Run apache2ctl configtest on the balancer and fix what it reports."),
        evidence,
      );
    }
    const missing = REQUIRED.filter((m) => !hasApacheModule(mods.modules, m));
    if (missing.length === 0) return pass(text(`Activos: ${REQUIRED.join(", ")}.`, `Enabled: ${REQUIRED.join(", ")}.`), evidence);
    return fail(
      text(`Faltan módulos de Apache: ${missing.join(", ")}.`, `Apache modules missing: ${missing.join(", ")}.`),
      text(
        `a2enmod ${missing.join(" ")} && systemctl restart apache2 (en CentOS/RHEL: LoadModule en /etc/httpd/conf.modules.d/ y systemctl restart httpd).`,
        `a2enmod ${missing.join(" ")} && systemctl restart apache2 (on CentOS/RHEL: LoadModule in /etc/httpd/conf.modules.d/ and systemctl restart httpd).`,
      ),
      evidence,
    );
  },
});
