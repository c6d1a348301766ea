/**
 * A small seeded pseudo-random generator for simulations (xoshiro128**, seeded through
 * splitmix32). Simulations of the statistical tests must be reproducible to the draw: a
 * failing error-rate measurement has to be re-runnable with the same seed. xoshiro128** has
 * period 2^128 − 1 and passes BigCrush; Math.random cannot be seeded.
 */

export interface Random {
  /** Uniform in [0, 1) with 32 bits of resolution. */
  next(): number;
  /** Uniform integer in [0, bound). */
  int(bound: number): number;
  /** Index i drawn with probability shares[i] / sum(shares). */
  pick(shares: readonly number[]): number;
}

function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export function createRandom(seed: number): Random {
  const init = splitmix32(seed);
  let a = init();
  let b = init();
  let c = init();
  let d = init();
  // The all-zero state is the one fixed point of xoshiro; splitmix32 cannot give four zeros in
  // a row, but a guard costs nothing.
  if ((a | b | c | d) === 0) a = 1;

  const nextUint32 = (): number => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result;
  };

  const next = (): number => nextUint32() / 4294967296;

  return {
    next,
    int: (bound) => Math.floor(next() * bound),
    pick: (shares) => {
      let total = 0;
      for (const share of shares) total += share;
      let u = next() * total;
      for (let i = 0; i < shares.length; i++) {
        u -= shares[i] ?? 0;
        if (u < 0) return i;
      }
      // Rounding can leave u a hair above zero: the last index with a positive share wins.
      for (let i = shares.length - 1; i >= 0; i--) if ((shares[i] ?? 0) > 0) return i;
      return 0;
    },
  };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
