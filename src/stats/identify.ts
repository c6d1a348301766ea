/**
 * How many answers identify a deterministic scheduler's cycle: the yardstick for the
 * exact-cycle rule (npm run bench), and the set of cycles the exhaustive test replays.
 */

import { leastRotation, SCHEDULERS, schedulerCycle, type SchedulerName } from "./schedulers.js";

export interface SchedulerWord {
  /** One cycle, shortest period, label indexes; rotated to its least rotation. */
  cycle: Uint8Array;
  /** Per label index, within one cycle. */
  counts: number[];
  /** Configurations (scheduler × reduced weight vector × list order) that give this cycle. */
  configurations: number;
  /** One of them, for messages. */
  example: { scheduler: SchedulerName; weights: number[]; order: number[] };
}

export interface SchedulerCycles {
  k: number;
  maxWeight: number;
  /** Weight vectors enumerated (maxWeight^k). */
  vectors: number;
  /** Scheduler × vector × list order. */
  configurations: number;
  words: SchedulerWord[];
  /** Σ periods: the number of (cycle, phase) sequences. */
  states: number;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

function permutations(k: number): number[][] {
  if (k === 1) return [[0]];
  const out: number[][] = [];
  for (const rest of permutations(k - 1)) {
    for (let i = 0; i <= rest.length; i++) out.push([...rest.slice(0, i), k - 1, ...rest.slice(i)]);
  }
  return out;
}

/**
 * Every cycle IPVS rr, IPVS wrr and Apache byrequests produce for k backends with weights
 * 1..maxWeight each, in every list order, as distinct cyclic words (a vector and its multiples
 * give the same cycle; the work is done once per reduced vector).
 */
export function schedulerCycles(k: number, maxWeight: number, schedulers: readonly SchedulerName[] = SCHEDULERS): SchedulerCycles {
  const orders = permutations(k);
  const byKey = new Map<string, SchedulerWord>();
  const reduced = new Set<string>();
  let vectors = 0;
  const weights = new Array<number>(k).fill(1);
  const visit = (): void => {
    vectors++;
    const g = weights.reduce((acc, w) => gcd(acc, w), 0);
    const vector = weights.map((w) => w / g);
    const reducedKey = vector.join(",");
    // A multiple of a vector already done gives the same cycles (both schedulers scale).
    if (reduced.has(reducedKey)) return;
    reduced.add(reducedKey);
    for (const scheduler of schedulers) {
      for (const order of orders) {
        const raw = schedulerCycle(scheduler, vector, order);
        const start = leastRotation(raw);
        const cycle = new Uint8Array(raw.length);
        for (let i = 0; i < raw.length; i++) cycle[i] = raw[(start + i) % raw.length] ?? 0;
        const key = String.fromCharCode(...Array.from(cycle, (c) => 48 + c));
        const word = byKey.get(key);
        if (word) {
          word.configurations++;
          continue;
        }
        const counts = new Array<number>(k).fill(0);
        for (const c of cycle) counts[c] = (counts[c] ?? 0) + 1;
        byKey.set(key, { cycle, counts, configurations: 1, example: { scheduler, weights: vector, order } });
      }
    }
  };
  const loop = (position: number): void => {
    if (position === k) {
      visit();
      return;
    }
    for (let w = 1; w <= maxWeight; w++) {
      weights[position] = w;
      loop(position + 1);
    }
  };
  loop(0);
  const words = [...byKey.values()];
  return { k, maxWeight, vectors, configurations: vectors * schedulers.length * orders.length, words, states: words.reduce((s, w) => s + w.cycle.length, 0) };
}


/** Per label index, the counts of s[from, from + length). */
function countsOf(sequence: ArrayLike<number>, k: number, from: number, length: number): number[] {
  const counts = new Array<number>(k).fill(0);
  for (let i = from; i < from + length; i++) {
    const c = sequence[i] ?? 0;
    counts[c] = (counts[c] ?? 0) + 1;
  }
  return counts;
}

function sameRatio(a: readonly number[], b: readonly number[]): boolean {
  const ta = a.reduce((s, v) => s + v, 0);
  const tb = b.reduce((s, v) => s + v, 0);
  return a.every((v, i) => v * tb === (b[i] ?? 0) * ta);
}

/**
 * The fewest answers of `sequence` (label indexes, the lab's own answers, one scheduler cycle
 * of `period` repeated) after which every cycle of at most `maxCycle` requests that fits them
 * has the same shares: no scheduler whose cycle is that short, and whose ratio differs, gives
 * these answers. A q-periodic order fits the first m answers when m ≤ q (its other turns are
 * free) or when they have period q; so the answer is at least maxCycle, and one more than
 * the longest prefix with a period q ≤ maxCycle whose first q answers have other shares.
 * Undefined when the sequence is too short to tell.
 */
export function fewestAmongCycles(sequence: ArrayLike<number>, period: number, maxCycle: number): number | undefined {
  const length = sequence.length;
  let k = 0;
  for (let i = 0; i < length; i++) k = Math.max(k, (sequence[i] ?? 0) + 1);
  const truth = countsOf(sequence, k, 0, Math.min(period, length));
  // m < maxCycle answers leave a free turn in a cycle of m + 1: any shares still fit.
  let longest = maxCycle - 1;
  for (let q = 1; q <= maxCycle; q++) {
    if (q >= length) return undefined;
    if (sameRatio(countsOf(sequence, k, 0, q), truth)) continue;
    // The longest prefix with period q.
    let reach = q;
    while (reach < length && sequence[reach] === sequence[reach - q]) reach++;
    if (reach >= length) return undefined;
    longest = Math.max(longest, reach);
  }
  return longest + 1;
}

/**
 * The fewest answers after which no cycle of the given schedulers (every weight vector and
 * list order of `cycles`, from every phase) with other shares than the lab's still fits them:
 * one more than the longest common prefix with such a cycle. Undefined when the sequence is
 * too short to tell.
 */
export function fewestAmongSchedulers(sequence: ArrayLike<number>, period: number, cycles: SchedulerCycles): number | undefined {
  const length = sequence.length;
  const truth = countsOf(sequence, cycles.k, 0, Math.min(period, length));
  let longest = 0;
  for (const word of cycles.words) {
    if (sameRatio(word.counts, truth)) continue;
    const p = word.cycle.length;
    for (let phase = 0; phase < p; phase++) {
      let i = 0;
      let j = phase;
      while (i < length && word.cycle[j] === sequence[i]) {
        i++;
        j = j + 1 === p ? 0 : j + 1;
      }
      if (i >= length) return undefined;
      if (i > longest) longest = i;
    }
  }
  return longest + 1;
}
