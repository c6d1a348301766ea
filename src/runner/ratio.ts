import type { RequestRecord, SampleMode } from "../probe/index.js";
import { createRatioDecider, type RatioVerdict, type Weights } from "../stats/index.js";
import type { CheckContext } from "./context.js";
import { sampleEvidence } from "./evidence.js";
import type { Evidence } from "./types.js";

export interface RatioSample {
  records: RequestRecord[];
  verdict: RatioVerdict;
  evidence: Evidence;
}

/**
 * Samples the VIP until the statistics core decides whether the backends' shares are the
 * expected ones (or the sample budget runs out: inconclusive). The sequential test stops the
 * probe loop as soon as it has decided, so a deterministic scheduler costs a few cycles.
 */
export async function sampleRatio(
  ctx: CheckContext,
  options: { name: string; mode: SampleMode; expected: Weights; localAddress?: string; maxCycle?: number },
): Promise<RatioSample> {
  const decider = createRatioDecider(options.expected, {
    maxSamples: ctx.spec.sampling.maxRequests,
    ...(options.maxCycle !== undefined ? { maxCycle: options.maxCycle } : {}),
  });
  const s = await ctx.http.sample({
    mode: options.mode,
    maxRequests: ctx.spec.sampling.maxRequests,
    ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    label: options.name,
    shouldStop: (record) => decider.push(record.label).state === "decided",
  });
  const verdict = decider.finish();
  return {
    records: s.records,
    verdict,
    evidence: sampleEvidence(options.name, options.mode, s.records, { ratio: verdict, stoppedBy: s.stoppedBy }),
  };
}

/** Expected shares of the Apache members (loadfactor) by backend name. */
export function expectedLoadfactors(ctx: CheckContext): Weights {
  return Object.fromEntries(ctx.spec.backends.map((b) => [b.name, b.loadfactor]));
}

/**
 * The cookieless keep-alive sample of the proxy part, taken once and read by several checks
 * (per-request alternation and the loadfactor ratio). Cookieless on purpose: requests that
 * carry a ROUTEID cookie still advance byrequests' counters.
 */
export function proxyKeepAliveSample(ctx: CheckContext): Promise<RatioSample> {
  return ctx.memo("proxy.keep-alive-sample", () =>
    sampleRatio(ctx, { name: "keep-alive", mode: "keep-alive", expected: expectedLoadfactors(ctx) }),
  );
}
