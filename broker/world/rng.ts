/**
 * Randomness as broker code sees it: seeded in tests and simulations so a
 * failing run replays exactly; `systemRng`, the production one, draws from
 * the operating system's cryptographic source (node:crypto), because some
 * of what it makes must be unpredictable and never repeat (the AES-GCM
 * nonces of encryption at rest, storage/encryption/batch-envelope.ts).
 */
import { randomFillSync } from 'node:crypto';

export interface Rng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, maxExclusive). */
  int(maxExclusive: number): number;
  /** Fills `target` with random bytes and returns it (crypto-grade in production: nonces come from here). */
  fill(target: Uint8Array): Uint8Array;
}

/**
 * Mulberry32: small, fast, and good enough for jitter and fault schedules.
 * Not for secrets: a simulation's nonces repeat from run to run by design
 * (that is what makes it replay), which is harmless only because a
 * simulation's keys and data are throwaway.
 */
export function seededRng(seed: number): Rng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const fill = (target: Uint8Array): Uint8Array => {
    for (let i = 0; i < target.length; i++) target[i] = Math.floor(next() * 256);
    return target;
  };
  return { next, int: (maxExclusive) => Math.floor(next() * maxExclusive), fill };
}

/** 53 random bits per float, drawn from a pooled crypto buffer (one system call per 512 draws). */
const POOL_FLOATS = 512;
const pool = new BigUint64Array(POOL_FLOATS);
let poolUsed = POOL_FLOATS;

function cryptoFloat(): number {
  if (poolUsed === POOL_FLOATS) {
    randomFillSync(pool);
    poolUsed = 0;
  }
  const bits = (pool[poolUsed++] as bigint) >> 11n;
  return Number(bits) / 2 ** 53;
}

export const systemRng: Rng = {
  next: cryptoFloat,
  int: (maxExclusive) => Math.floor(cryptoFloat() * maxExclusive),
  fill: (target) => randomFillSync(target),
};
