import { defineCheck, fail, inconclusive, pass, text } from "../../src/runner/check.js";
import { proxyKeepAliveSample } from "../../src/runner/ratio.js";

/**
 * The observed shares equal the expected loadfactors (3:1 gives the cycle 1121). Decided by
 * the statistics core: exact cycle first, then the sequential test (α, β ≤ 0.001).
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
    if (verdict.outcome === "pass") return pass(verdict.explanation, [evidence]);
    if (verdict.outcome === "fail") {
      return fail(
        verdict.explanation,
        text(`Ajuste los loadfactor en el <Proxy balancer://…>: ${members}.`, `Set the loadfactors in <Proxy balancer://…>: ${members}.`),
        [evidence],
      );
    }
    return inconclusive(
      verdict.explanation,
      text(
        `Aumente sampling.maxRequests (ahora ${ctx.spec.sampling.maxRequests})${verdict.suggestedSamples ? ` hasta unas ${verdict.suggestedSamples}` : ""} o revise los errores de la VIP.`,
        `Raise sampling.maxRequests (now ${ctx.spec.sampling.maxRequests})${verdict.suggestedSamples ? ` to about ${verdict.suggestedSamples}` : ""} or look at the VIP's errors.`,
      ),
      [evidence],
    );
  },
});
