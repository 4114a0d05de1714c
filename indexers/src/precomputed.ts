/**
 * Values of a pure function of a text, computed ahead (local ingest computes
 * them in its worker threads) and known by text while a call runs, so the
 * one thread that writes the index looks them up instead of computing them
 * again. The function is pure, so a value found here is the value it
 * computes.
 */
export class Precomputed<V> {
  private known: ReadonlyMap<string, V> | undefined;

  /** The value known for `text`, if any. */
  get(text: string): V | undefined {
    return this.known?.get(text);
  }

  /** Runs `fn` with `values[i]` known for `texts[i]` (undefined: not known). */
  async with<T>(
    texts: readonly string[],
    values: readonly (V | undefined)[],
    fn: () => Promise<T>,
  ): Promise<T> {
    const known = new Map<string, V>();
    for (let i = 0; i < texts.length; i++) {
      const value = values[i];
      if (value !== undefined) known.set(texts[i]!, value);
    }
    const previous = this.known;
    this.known = known;
    try {
      return await fn();
    } finally {
      this.known = previous;
    }
  }
}
