/**
 * hagrade's statistics: is the balancer's distribution the expected ratio?
 * Checks call `decideRatio` / `createRatioDecider`; the rest is exported for evidence,
 * simulations and documentation (docs/statistics.md).
 */

export {
  createRatioDecider,
  decideRatio,
  decisionPlan,
  DEFAULT_MAX_SAMPLES,
  type DecisionPlan,
  type DeciderStep,
  type RatioCycleEvidence,
  type RatioDecision,
  type RatioDecider,
  type RatioMethod,
  type RatioOptions,
  type RatioOutcome,
  type RatioReason,
  type RatioVerdict,
} from "./decide.js";
export {
  CycleBound,
  cycleBoundFor,
  DEFAULT_CYCLE_DELTA,
  DEFAULT_MAX_CYCLE,
  MIN_REPETITIONS,
  findExactCycle,
  isProportional,
  PeriodTracker,
  type CycleResult,
  type ExactCycle,
  type FindCycleOptions,
  type NoExactCycle,
} from "./cycle.js";
export {
  createSprt,
  DEFAULT_ALPHA,
  DEFAULT_BETA,
  runSprt,
  shareEvidence,
  Sprt,
  type ShareEvidence,
  type SprtAlternativeStatus,
  type SprtBoundaries,
  type SprtOptions,
  type SprtRun,
  type SprtSnapshot,
  type SprtState,
} from "./sprt.js";
export { alternativesFrom, klDivergence, plausibleAlternatives, type Alternative, type AlternativeKind } from "./alternatives.js";
export { isAlternating, keepAliveBehaviour, type KeepAliveBehaviour } from "./keepalive.js";
export { indifferenceZone, llrDrift, type IndifferenceZone } from "./zone.js";
export { fewestAmongCycles, fewestAmongSchedulers, schedulerCycles, type SchedulerCycles, type SchedulerWord } from "./identify.js";
export {
  apacheByrequestsOrder,
  createLvsWrr,
  leastRotation,
  longestRun,
  lvsRrOrder,
  lvsWrrOrder,
  primitivePeriod,
  schedulerCycle,
  schedulerOrder,
  SCHEDULERS,
  turnLength,
  type LvsWrr,
  type SchedulerName,
} from "./schedulers.js";
export {
  binomialTwoSidedPValue,
  binomialUpperTail,
  clopperPearsonUpper,
  fixedSampleSize,
  sharesPValue,
  wilsonInterval,
  type PValueMethod,
} from "./distributions.js";
export { createRandom, type Random } from "./random.js";
export { observedRatioText, StatsInputError, toWeightTable, weightsText, type Weights, type WeightTable } from "./weights.js";
