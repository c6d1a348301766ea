import { defineCheck, ev, fail, inconclusive, pass, remote, text } from "../../src/runner/check.js";
import { hasApacheModule, parseApacheConfigtest, parseApacheModules } from "../../src/inspect/index.js";
import { apacheLayout, enableModulesFix, modulesMissingFromConfigtest } from "../../src/inspect/apache-layout.js";
import { readMachine } from "../../src/inspect/os.js";

const REQUIRED = ["proxy", "proxy_http", "proxy_balancer", "lbmethod_byrequests", "headers"] as const;

/**
 * Part 2, step 2: the modules the reverse proxy needs. A missing proxy_http passes configtest
 * and turns every request into a 503 (LAB-FACTS), so the list itself is checked. stdout only:
 * stderr carries AH00558 noise. Debian and CentOS name the command and the fix differently.
 */
export default defineCheck({
  id: "proxy.modules",
  part: "proxy",
  title: text("Módulos de Apache del proxy inverso", "Apache modules of the reverse proxy"),
  points: 1,
  needs: ["ssh"],
  async run(ctx) {
    const ssh = remote(ctx);
    const machine = await ctx.memo("machine:balancer", () => readMachine((c) => ssh.exec("balancer", c)));
    const apache = apacheLayout(machine);
    const r = await ssh.exec("balancer", `${apache.ctl} -M`, { sudo: true });
    const mods = parseApacheModules(r.stdout);
    const listed = [...mods.modules].sort();
    const evidence = [ev.apacheModules({ family: apache.family, os: machine.os.prettyName ?? machine.os.id ?? null, listed })];
    if (mods.failed || listed.length === 0) {
      // A module whose directives the site uses stops the configuration from loading at all.
      const configtest = parseApacheConfigtest((await ssh.exec("balancer", `${apache.ctl} -t 2>&1`, { sudo: true })).stdout);
      const explained = modulesMissingFromConfigtest(configtest);
      const error = configtest.errors[0];
      if (error && explained.length > 0) {
        return fail(
          text(
            `La configuración de Apache no carga (${error.message}${error.file ? `, ${error.file}:${error.line}` : ""}): falta ${explained.join(" o ")}.`,
            `Apache's configuration does not load (${error.message}${error.file ? `, ${error.file}:${error.line}` : ""}): ${explained.join(" or ")} is missing.`,
          ),
          enableModulesFix(machine, explained),
          evidence,
        );
      }
      return inconclusive(
        text(`${apache.ctl} -M no listó módulos (¿la configuración no carga?).`, `${apache.ctl} -M listed no modules (does the configuration load?).`),
        text(`Ejecute ${apache.ctl} configtest en el balanceador y corrija lo que indique.`, `Run ${apache.ctl} configtest on the balancer and fix what it reports.`),
        evidence,
      );
    }
    const missing = REQUIRED.filter((m) => !hasApacheModule(mods.modules, m));
    if (missing.length === 0) return pass(text(`Activos: ${REQUIRED.join(", ")}.`, `Enabled: ${REQUIRED.join(", ")}.`), evidence);
    return fail(
      text(`Faltan módulos de Apache: ${missing.join(", ")}.`, `Apache modules missing: ${missing.join(", ")}.`),
      enableModulesFix(machine, missing),
      evidence,
    );
  },
});
