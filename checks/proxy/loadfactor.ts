import { defineCheck, fail, inconclusive, pass, text } from "../../src/runner/check.js";
import { expectedLoadfactors, proxyKeepAliveSample } from "../../src/runner/ratio.js";
import { weightsText } from "../../src/stats/index.js";
import { configuredLoadfactors, type ConfiguredLoadfactors } from "./apache-members.js";

/**
 * The observed shares equal the expected loadfactors (3:1 gives the cycle 1121). Decided by
 * the statistics core: exact cycle first, then the sequential test (α, β ≤ 0.001). With SSH to
 * the balancer the traffic is also compared with the loadfactors Apache's site files give, and
 * a disagreement is said: the expected loadfactors on disk with other traffic mean Apache was
 * not reloaded; other loadfactors on disk with the expected traffic mean another file rules.
 * The verdict itself rests on the traffic.
 */
export default defineCheck({
  id: "proxy.loadfactor",
  part: "proxy",
  title: text("Pesos loadfactor", "loadfactor weights"),
  points: 2,
  needs: ["http"],
  dependsOn: ["net.vip-http"],
  usesVip: true,
  async run(ctx) {
    const { verdict, evidence } = await proxyKeepAliveSample(ctx);
    const members = ctx.spec.backends.map((b) => `BalancerMember http://${b.address} loadfactor=${b.loadfactor}`).join("; ");
    const expected = weightsText(ctx.spec.backends.map((b) => expectedLoadfactors(ctx)[b.name] ?? 1));
    const note = configurationNote(await configuredLoadfactors(ctx), expected, verdict.outcome);
    const explanation = text(`${verdict.explanation.es}${note.es}`, `${verdict.explanation.en}${note.en}`);
    if (verdict.outcome === "pass") return pass(explanation, [evidence]);
    if (verdict.outcome === "fail") {
      return fail(
        explanation,
        note.configAgrees
          ? text(
              "Si cambió la configuración, recargue Apache (systemctl reload apache2, o httpd); si no, compruebe que cada BalancerMember responde y que ningún otro fichero define el balanceador.",
              "If the configuration was changed, reload Apache (systemctl reload apache2, or httpd); otherwise check that every BalancerMember answers and that no other file defines the balancer.",
            )
          : text(`Ajuste los loadfactor en el <Proxy balancer://…>: ${members}.`, `Set the loadfactors in <Proxy balancer://…>: ${members}.`),
        [evidence],
      );
    }
    return inconclusive(
      explanation,
      text(
        `Aumente sampling.maxRequests (ahora ${ctx.spec.sampling.maxRequests})${verdict.suggestedSamples ? ` hasta unas ${verdict.suggestedSamples}` : ""} o revise los errores de la VIP.`,
        `Raise sampling.maxRequests (now ${ctx.spec.sampling.maxRequests})${verdict.suggestedSamples ? ` to about ${verdict.suggestedSamples}` : ""} or look at the VIP's errors.`,
      ),
      [evidence],
    );
  },
});

/** What the site files say beside the traffic's verdict; empty without them. */
export function configurationNote(configured: ConfiguredLoadfactors | undefined, expected: string, outcome: string): { es: string; en: string; configAgrees: boolean } {
  if (!configured) return { es: "", en: "", configAgrees: false };
  const { ratio, where } = configured;
  if (ratio === expected) {
    if (outcome === "fail") {
      return {
        es: ` El tráfico no coincide con la configuración: ${where} da loadfactor ${ratio}, el esperado, pero el reparto es otro.`,
        en: ` The traffic disagrees with the configuration: ${where} gives loadfactor ${ratio}, the expected one, but the split is another.`,
        configAgrees: true,
      };
    }
    return { es: ` La configuración coincide: ${where} da loadfactor ${ratio}.`, en: ` The configuration agrees: ${where} gives loadfactor ${ratio}.`, configAgrees: false };
  }
  if (outcome === "pass") {
    return {
      es: ` El tráfico no coincide con la configuración: ${where} da loadfactor ${ratio} (otro fichero define el balanceador, o Apache no se ha recargado desde el cambio).`,
      en: ` The traffic disagrees with the configuration: ${where} gives loadfactor ${ratio} (another file defines the balancer, or Apache was not reloaded since the change).`,
      configAgrees: false,
    };
  }
  return { es: ` La configuración da loadfactor ${ratio} (${where}).`, en: ` The configuration gives loadfactor ${ratio} (${where}).`, configAgrees: false };
}
