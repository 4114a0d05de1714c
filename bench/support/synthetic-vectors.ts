import { gaussian } from "./synthetic-minilm.js";

/**
 * Vectors for a million chunks when only a few hundred can be embedded:
 * each original chunk `g` gets a base vector near the real embeddings of
 * the sample (a mix of two sample vectors, `α·s_i + (1−α)·s_j`, α in
 * [0.3, 0.7], plus noise of norm `originNoise`; a sampled chunk's base is
 * its own embedding), and each stored copy of it the base plus noise of
 * norm `copyNoise` (copies are near-identical text, so near-identical
 * vectors), renormalised. Deterministic per original and per chunk id.
 * Both noise norms are set from the sample's median nearest-neighbour
 * distance, so the derived cloud is as spread as the real one, not tighter.
 */

export interface SampleSpread {
  /** Mean cosine similarity between two different sample vectors. */
  meanCosine: number;
  /** Median Euclidean distance from a sample vector to its nearest other one. */
  medianNearest: number;
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

export function sampleSpread(sample: readonly Float32Array[]): SampleSpread {
  let sum = 0;
  let pairs = 0;
  const nearest: number[] = [];
  for (let i = 0; i < sample.length; i++) {
    let best = -2;
    for (let j = 0; j < sample.length; j++) {
      if (i === j) continue;
      const c = dot(sample[i]!, sample[j]!);
      if (j > i) {
        sum += c;
        pairs++;
      }
      best = Math.max(best, c);
    }
    nearest.push(Math.sqrt(Math.max(0, 2 - 2 * best)));
  }
  nearest.sort((a, b) => a - b);
  return {
    meanCosine: sum / Math.max(1, pairs),
    medianNearest: nearest[Math.floor(nearest.length / 2)] ?? 0,
  };
}

function normalize(v: Float32Array): Float32Array {
  const n = Math.sqrt(dot(v, v)) || 1;
  for (let i = 0; i < v.length; i++) v[i]! /= n;
  return v;
}

function addNoise(v: Float32Array, norm: number, seed: number): void {
  const random = gaussian(seed, norm / Math.sqrt(v.length));
  for (let i = 0; i < v.length; i++) v[i]! += random();
}

export class DerivedVectors {
  private readonly bases = new Map<number, Float32Array>();
  readonly originNoise: number;
  readonly copyNoise: number;

  constructor(
    /** Original chunk number → its position in `sample`, for the sampled ones. */
    private readonly sampledAt: ReadonlyMap<number, number>,
    private readonly sample: readonly Float32Array[],
    spread: SampleSpread,
  ) {
    this.originNoise = 0.5 * spread.medianNearest;
    this.copyNoise = 0.15 * spread.medianNearest;
  }

  private base(origin: number): Float32Array {
    let base = this.bases.get(origin);
    if (base) return base;
    const own = this.sampledAt.get(origin);
    if (own !== undefined) base = Float32Array.from(this.sample[own]!);
    else {
      const random = gaussian(origin * 2_654_435_761, 1);
      const pickOne = () => Math.floor(Math.abs(random() * 1e6)) % this.sample.length;
      const a = this.sample[pickOne()]!;
      const b = this.sample[pickOne()]!;
      const alpha = 0.3 + 0.4 * (0.5 + Math.atan(random()) / Math.PI);
      base = new Float32Array(a.length);
      for (let i = 0; i < a.length; i++) base[i] = alpha * a[i]! + (1 - alpha) * b[i]!;
      addNoise(base, this.originNoise, origin + 17);
      normalize(base);
    }
    this.bases.set(origin, base);
    return base;
  }

  vector(origin: number, chunkId: number): Float32Array {
    const v = Float32Array.from(this.base(origin));
    addNoise(v, this.copyNoise, chunkId * 31 + 7);
    return normalize(v);
  }
}
