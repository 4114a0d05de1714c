import { type Kysely, sql } from "kysely";
import { B, bm25Idf, K1, K1_PLUS_1, ONE_MINUS_B } from "./bm25.js";
import type { TermStats } from "./postgres-terms.js";

/**
 * `term_postings`: the SQLite keyword index's own postings, its word index.
 *
 * (It had an FTS5 word table too, `chunks_fts`, until ADR 0010. FTS5 finds
 * the chunks holding a term quickly, but ranks them through its bm25()
 * function, row by row, reading positions, and counting each phrase's rows
 * again on every query: a common word took ~200 ms at 1M chunks.)
 * Ranking needs far less: per term, the chunks holding it, each
 * with its weighted term frequency (`f`, the sum of the column weights of
 * its occurrences) and its token count (`len`). Stored here, in chunk-id
 * order, in blocks of up to `blockCapacity` postings (`term, first_id → data`), a
 * query reads each of its terms' blocks once and adds up BM25 — FTS5's
 * formula (`bm25.ts`) — for every chunk holding any term: the exhaustive,
 * exact answer, with no candidate step.
 *
 * The writer keeps the table: every chunk added or removed is journaled
 * with the stats of its four columns (file name, directory, symbol path,
 * body: `rowStats`, FTS5's `porter unicode61` tokenizer in TypeScript:
 * `unicode61.ts`, `porter.ts`), and the journal is applied in
 * the same transaction (`PostingsJournal.apply`). Chunk ids only grow, so adding a
 * chunk rewrites only the last block of each of its terms.
 *
 * A block's data: varint count, varint largest `f`, varint smallest `len`
 * (a bound of the block's BM25 for any index totals), then per posting
 * varint id gap (from the previous id; the first from `first_id`, so 0),
 * varint `f`, varint `len`.
 */

type Db = Kysely<unknown>;

/** Creates empty `term_postings`, `term_df` and `keyword_totals` tables (dropping any there were). */
export async function createPostingsTables(db: Db): Promise<void> {
  await sql`drop table if exists term_postings`.execute(db);
  await sql`create table term_postings (term text not null, first_id integer not null, data blob not null,
    primary key (term, first_id)) without rowid`.execute(db);
  await sql`drop table if exists term_df`.execute(db);
  await sql`create table term_df (term text primary key, df integer not null) without rowid`.execute(db);
  await createTotalsTable(db, { chunks: 0, tokens: 0 });
}

/**
 * `keyword_totals`: one row, the chunks in the index and their tokens over all columns — BM25's
 * N and average length — kept by the journal with the postings.
 */
export async function createTotalsTable(db: Db, totals: { chunks: number; tokens: number }): Promise<void> {
  await sql`drop table if exists keyword_totals`.execute(db);
  await sql`create table keyword_totals (id integer primary key check (id = 1), chunks integer not null, tokens integer not null)`.execute(
    db,
  );
  await sql`insert into keyword_totals (id, chunks, tokens) values (1, ${totals.chunks}, ${totals.tokens})`.execute(
    db,
  );
}

/** Postings per block of a rare term when appending (a block holds up to twice its capacity before it is split). */
export const BLOCK = 128;
/** The largest block capacity (terms in more than 64 × this many chunks). */
export const MAX_BLOCK = 1024;

/**
 * Postings per block for a term held by `df` chunks: 128, growing with the term to 1024 (a
 * common term's whole list is read in few rows; SQLite costs ~3 µs per row read, a posting
 * ~20 ns to decode), so a term has at most ~64 blocks until it is very common.
 */
export function blockCapacity(df: number): number {
  let capacity = BLOCK;
  while (capacity < MAX_BLOCK && capacity * 64 < df) capacity *= 2;
  return capacity;
}

/** One term's postings of one block, ascending ids. */
export interface Postings {
  ids: number[];
  f: number[];
  len: number[];
}

/** Where `encodeBlock` writes before copying out the block's bytes (grown when a block needs more). */
let encoding = new Uint8Array(64 * 1024);

/** Writes `value` as a varint at `at` of `encoding`; returns the position after it. */
function writeVarint(at: number, value: number): number {
  let v = value;
  let i = at;
  while (v >= 0x80) {
    encoding[i++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  encoding[i++] = v;
  return i;
}

export function encodeBlock(block: Postings): Uint8Array {
  const n = block.ids.length;
  let maxF = 0;
  let minLen = Number.MAX_SAFE_INTEGER;
  for (let i = 0; i < n; i++) {
    if (block.f[i]! > maxF) maxF = block.f[i]!;
    if (block.len[i]! < minLen) minLen = block.len[i]!;
  }
  // At most 8 bytes per varint for numbers below 2^53 (7 bits each): 3 per posting and 3 in the header.
  const most = (3 * n + 3) * 8;
  if (encoding.length < most) encoding = new Uint8Array(most);
  let at = writeVarint(0, n);
  at = writeVarint(at, maxF);
  at = writeVarint(at, n === 0 ? 0 : minLen);
  let prev = block.ids[0] ?? 0;
  for (let i = 0; i < n; i++) {
    at = writeVarint(at, block.ids[i]! - prev);
    prev = block.ids[i]!;
    at = writeVarint(at, block.f[i]!);
    at = writeVarint(at, block.len[i]!);
  }
  return encoding.slice(0, at);
}

/** The number of postings in a block (its first varint). */
export function blockCount(data: Uint8Array): number {
  let value = 0;
  for (let at = 0, scale = 1; ; at++, scale *= 128) {
    const byte = data[at]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return value;
  }
}

export function decodeBlock(firstId: number, data: Uint8Array): Postings {
  const block: Postings = { ids: [], f: [], len: [] };
  forEachPosting(firstId, data, (id, f, len) => {
    block.ids.push(id);
    block.f.push(f);
    block.len.push(len);
  });
  return block;
}

/** Calls `fn` for each posting of a block, in id order. */
export function forEachPosting(
  firstId: number,
  data: Uint8Array,
  fn: (id: number, f: number, len: number) => void,
): void {
  let at = 0;
  const varint = (): number => {
    let value = 0;
    let scale = 1;
    for (;;) {
      const byte = data[at++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 128;
    }
  };
  const n = varint();
  varint();
  varint();
  let id = firstId;
  for (let i = 0; i < n; i++) {
    id += varint();
    const f = varint();
    fn(id, f, varint());
  }
}

/** The postings a transaction adds and removes, applied before it commits. */
export class PostingsJournal {
  /** term → its changes in order: a chunk id with [f, len] added, or f = -1: removed. */
  private readonly changes = new Map<string, TermLog>();
  /** Changes to `keyword_totals`: chunks and their tokens added (negative: removed). */
  private chunks = 0;
  private tokens = 0;

  get empty(): boolean {
    return this.changes.size === 0 && this.chunks === 0 && this.tokens === 0;
  }

  add(id: number, stats: TermStats): void {
    for (const [term, f] of stats.terms) this.log(term).push(id, f, stats.length);
    this.chunks++;
    this.tokens += stats.length;
  }

  remove(id: number, stats: TermStats): void {
    for (const term of stats.terms.keys()) this.log(term).push(id, -1, 0);
    this.chunks--;
    this.tokens -= stats.length;
  }

  private log(term: string): TermLog {
    let log = this.changes.get(term);
    if (!log) {
      log = new TermLog();
      this.changes.set(term, log);
    }
    return log;
  }

  /** Writes the changes to `term_postings`, `term_df` and `keyword_totals`, and empties the journal. */
  async apply(db: Db): Promise<void> {
    if (this.chunks !== 0 || this.tokens !== 0) {
      await sql`update keyword_totals set chunks = chunks + ${this.chunks}, tokens = tokens + ${this.tokens}`.execute(
        db,
      );
      this.chunks = 0;
      this.tokens = 0;
    }
    const terms = [...this.changes.keys()];
    const net = new Map(terms.map((t) => [t, this.changes.get(t)!.net()]));
    const loaded = new Map<string, Map<number, Uint8Array>>();
    /** Each term's document frequency before this transaction (its blocks' size follows it). */
    const known = new Map<string, number>();
    const put = (term: string, firstId: number, data: Uint8Array) => {
      let blocks = loaded.get(term);
      if (!blocks) {
        blocks = new Map();
        loaded.set(term, blocks);
      }
      blocks.set(firstId, data);
    };
    // Each term's last block (appends go there), a few hundred terms per statement.
    for (let at = 0; at < terms.length; at += 400) {
      const some = terms.slice(at, at + 400);
      const { rows } = await sql<{ term: string; first_id: number; data: Uint8Array; df: number | null }>`
        select p.term, p.first_id, p.data, t.df from term_postings p join (
          select term, max(first_id) as last from term_postings where term in (${sql.join(some)}) group by term
        ) l on p.term = l.term and p.first_id = l.last left join term_df t on t.term = p.term`.execute(db);
      for (const r of rows) {
        put(r.term, Number(r.first_id), r.data);
        known.set(r.term, Number(r.df ?? 0));
      }
    }
    // Changes below a term's last block (removed chunks, mostly): the blocks covering them, one
    // range per run of nearby ids.
    for (const term of terms) {
      const lastKey = Math.max(-1, ...(loaded.get(term)?.keys() ?? []));
      const below = net.get(term)!.ids.filter((id) => id < lastKey);
      for (let i = 0; i < below.length; ) {
        let j = i;
        while (j + 1 < below.length && below[j + 1]! - below[j]! < RUN_GAP) j++;
        const { rows } = await sql<{ first_id: number; data: Uint8Array }>`
          select first_id, data from term_postings where term = ${term} and first_id <= ${below[j]!} and first_id >= coalesce(
            (select max(first_id) from term_postings where term = ${term} and first_id <= ${below[i]!}), 0)`.execute(
          db,
        );
        for (const r of rows) put(term, Number(r.first_id), r.data);
        i = j + 1;
      }
    }
    const deletes: Array<[string, number]> = [];
    const writes: Array<[string, number, Uint8Array]> = [];
    const df: Array<[string, number]> = [];
    for (const term of terms) {
      const stored = [...(loaded.get(term) ?? new Map<number, Uint8Array>())].sort((a, b) => a[0] - b[0]);
      const changes = net.get(term)!;
      const capacity = blockCapacity((known.get(term) ?? 0) + changes.ids.length);
      const delta = applyTermChanges(term, stored, changes, capacity, deletes, writes);
      if (delta !== 0) df.push([term, delta]);
    }
    this.changes.clear();
    for (let at = 0; at < deletes.length; at += 400) {
      const some = deletes.slice(at, at + 400);
      await sql`delete from term_postings where (term, first_id) in (values ${sql.join(
        some.map(([t, k]) => sql`(${t}, ${k})`),
      )})`.execute(db);
    }
    for (let at = 0; at < writes.length; at += 300) {
      const some = writes.slice(at, at + 300);
      await sql`insert or replace into term_postings (term, first_id, data) values ${sql.join(
        some.map(([t, k, d]) => sql`(${t}, ${k}, ${d})`),
      )}`.execute(db);
    }
    // Document frequencies change with the postings: one per chunk added to or removed from a term.
    for (let at = 0; at < df.length; at += 400) {
      const some = df.slice(at, at + 400);
      await sql`insert into term_df (term, df) values ${sql.join(some.map(([t, d]) => sql`(${t}, ${d})`))}
        on conflict (term) do update set df = df + excluded.df`.execute(db);
      const fewer = some.filter(([, d]) => d < 0).map(([t]) => t);
      if (fewer.length > 0)
        await sql`delete from term_df where df <= 0 and term in (${sql.join(fewer)})`.execute(db);
    }
  }
}

/** One term's changes in a transaction, in order. */
class TermLog {
  readonly ids: number[] = [];
  readonly f: number[] = [];
  readonly len: number[] = [];

  push(id: number, f: number, len: number): void {
    this.ids.push(id);
    this.f.push(f);
    this.len.push(len);
  }

  /**
   * The net change per chunk, ascending ids (f = -1: remove). A chunk added and removed in the
   * same transaction was never stored: it drops out. (Ids only grow, so the usual log — chunks
   * added in id order — is already its own net change.)
   */
  net(): { ids: number[]; f: number[]; len: number[] } {
    let plain = true;
    for (let i = 0; i < this.ids.length && plain; i++)
      plain = this.f[i]! >= 0 && (i === 0 || this.ids[i]! > this.ids[i - 1]!);
    if (plain) return this;
    const last = new Map<number, number>();
    const firstAdded = new Set<number>();
    this.ids.forEach((id, i) => {
      if (!last.has(id) && this.f[i]! >= 0) firstAdded.add(id);
      last.set(id, i);
    });
    for (const id of firstAdded) if (this.f[last.get(id)!]! < 0) last.delete(id);
    const ids = [...last.keys()].sort((a, b) => a - b);
    return {
      ids,
      f: ids.map((id) => this.f[last.get(id)!]!),
      len: ids.map((id) => this.len[last.get(id)!]!),
    };
  }
}

/** Ids of one term's changes this close together are read as one range of blocks. */
const RUN_GAP = 4096;

interface StoredBlock {
  /** The key it is stored under (undefined: new). */
  key: number | undefined;
  block: Postings;
  changed: boolean;
}

/**
 * Applies one term's changes to the blocks that hold or follow them (`stored`: key and data, ascending;
 * the term's last block among them), and lists the rows to delete and to write.
 */
function applyTermChanges(
  term: string,
  stored: ReadonlyArray<[number, Uint8Array]>,
  changes: { ids: number[]; f: number[]; len: number[] },
  capacity: number,
  deletes: Array<[string, number]>,
  writes: Array<[string, number, Uint8Array]>,
): number {
  let delta = 0;
  const blocks: StoredBlock[] = stored.map(([key, data]) => ({
    key,
    block: decodeBlock(key, data),
    changed: false,
  }));
  const first = (b: StoredBlock) => b.block.ids[0] ?? b.key ?? Number.MAX_SAFE_INTEGER;
  let at = 0;
  for (let c = 0; c < changes.ids.length; c++) {
    const id = changes.ids[c]!;
    const f = changes.f[c]!;
    while (at + 1 < blocks.length && first(blocks[at + 1]!) <= id) at++;
    let target = blocks[at];
    if (f < 0) {
      const i = target ? bisect(target.block.ids, id) : -1;
      if (!target || target.block.ids[i] !== id) continue;
      delta--;
      target.block.ids.splice(i, 1);
      target.block.f.splice(i, 1);
      target.block.len.splice(i, 1);
      target.changed = true;
      continue;
    }
    const tail = target?.block.ids[target.block.ids.length - 1];
    if (
      !target ||
      (at === blocks.length - 1 && target.block.ids.length >= capacity && tail !== undefined && id > tail)
    ) {
      target = { key: undefined, block: { ids: [], f: [], len: [] }, changed: true };
      blocks.push(target);
      at = blocks.length - 1;
    }
    const ids = target.block.ids;
    if (ids.length === 0 || id > ids[ids.length - 1]!) {
      // Appended (chunk ids only grow: most changes are new chunks, after every id stored).
      delta++;
      ids.push(id);
      target.block.f.push(f);
      target.block.len.push(changes.len[c]!);
    } else {
      const i = bisect(ids, id);
      if (ids[i] === id) {
        target.block.f[i] = f;
        target.block.len[i] = changes.len[c]!;
      } else {
        delta++;
        ids.splice(i, 0, id);
        target.block.f.splice(i, 0, f);
        target.block.len.splice(i, 0, changes.len[c]!);
      }
    }
    target.changed = true;
    if (target.block.ids.length >= 2 * capacity) {
      const half = target.block.ids.length >> 1;
      const rest: Postings = {
        ids: target.block.ids.splice(half),
        f: target.block.f.splice(half),
        len: target.block.len.splice(half),
      };
      blocks.splice(at + 1, 0, { key: undefined, block: rest, changed: true });
    }
  }
  const keys = new Set(blocks.filter((b) => b.block.ids.length > 0).map((b) => b.block.ids[0]!));
  for (const b of blocks) {
    if (b.key !== undefined && !keys.has(b.key)) deletes.push([term, b.key]);
    if (b.block.ids.length > 0 && (b.changed || b.key !== b.block.ids[0]))
      writes.push([term, b.block.ids[0]!, encodeBlock(b.block)]);
  }
  return delta;
}

/** Index of the first element ≥ `value`. */
function bisect(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * One query's score accumulators, indexed by chunk id, and the ids it touched. A query awaits
 * SQLite between terms, so queries running at once (a server's requests) each take their own
 * from `spare` and give it back cleared: the arrays (8 bytes per chunk id) are reused, never shared.
 */
class Scratch {
  scores = new Float64Array(1 << 16);
  touched = new Int32Array(1 << 16);
  count = 0;

  /** Makes room for scores up to chunk id `id`. */
  reach(id: number): void {
    if (id < this.scores.length) return;
    let size = this.scores.length;
    while (size <= id) size *= 2;
    const more = new Float64Array(size);
    more.set(this.scores);
    this.scores = more;
  }

  /** Records `id` as touched (its score is about to leave 0). */
  touch(id: number): void {
    if (this.count === this.touched.length) {
      const more = new Int32Array(this.touched.length * 2);
      more.set(this.touched);
      this.touched = more;
    }
    this.touched[this.count++] = id;
  }

  clear(): void {
    for (let t = 0; t < this.count; t++) this.scores[this.touched[t]!] = 0;
    this.count = 0;
  }
}

const spare: Scratch[] = [];

/** The BM25 constants of one query: a posting (f, len) of a term of idf `weight` adds weight · f · a / (f + c + d · len). */
interface Norm {
  a: number;
  c: number;
  d: number;
}

/**
 * Adds one block's postings of a term of idf `weight` to `s` (the hot loop of a query, varints
 * decoded inline). `mask`: only chunks set there count. `scoredOnly`: only chunks already scored
 * (the candidates) get the term; no chunk is touched.
 */
function addBlock(
  s: Scratch,
  firstId: number,
  data: Uint8Array,
  weight: number,
  norm: Norm,
  mask: Uint8Array | undefined,
  scoredOnly: boolean,
): void {
  const { a, c, d } = norm;
  const wa = weight * a;
  let at = 0;
  let n = 0;
  for (let shift = 1, byte = 128; byte >= 128; shift *= 128) {
    byte = data[at++]!;
    n += (byte & 0x7f) * shift;
  }
  while (data[at++]! >= 128);
  while (data[at++]! >= 128);
  let id = firstId;
  let scores = s.scores;
  for (let p = 0; p < n; p++) {
    let v = 0;
    for (let shift = 1, byte = 128; byte >= 128; shift *= 128) {
      byte = data[at++]!;
      v += (byte & 0x7f) * shift;
    }
    id += v;
    if (
      (mask && (id >= mask.length || mask[id] === 0)) ||
      (scoredOnly && (id >= scores.length || scores[id] === 0))
    ) {
      while (data[at++]! >= 128);
      while (data[at++]! >= 128);
      continue;
    }
    let f = 0;
    for (let shift = 1, byte = 128; byte >= 128; shift *= 128) {
      byte = data[at++]!;
      f += (byte & 0x7f) * shift;
    }
    let len = 0;
    for (let shift = 1, byte = 128; byte >= 128; shift *= 128) {
      byte = data[at++]!;
      len += (byte & 0x7f) * shift;
    }
    if (!scoredOnly) {
      if (id >= scores.length) {
        s.reach(id);
        scores = s.scores;
      }
      if (scores[id] === 0) s.touch(id);
    }
    scores[id]! += (wa * f) / (f + c + d * len);
  }
}

/** A chunk and its BM25 score. */
export interface ScoredChunk {
  id: number;
  score: number;
}

/**
 * The exact BM25 ranking of the chunks holding any of `phrases` (repeats
 * count again, as in FTS5 and `bm25Scorer`), best first (ties: lower id).
 *
 * Term at a time, in the spirit of MaxScore (Turtle & Flood 1995): the
 * terms are read rarest first (highest bound first: a term adds at most
 * idf · (k1 + 1) to a chunk), each term's postings added to per-chunk
 * accumulators. Once the terms left could not lift a chunk that holds none
 * of the terms read so far above the `limit`-th best partial score (a lower
 * bound of the final one), those terms are only looked up for the chunks
 * that can still reach the top — the few blocks that hold them — instead
 * of read whole; the most common words (`class`, `test`, whose idf is
 * FTS5's floor) are then almost never read. The answer is the same as
 * scoring every chunk.
 *
 * Filters: with `mask` (the chunks a filter keeps, taken ahead), only those
 * count, and the method is the same. With `filter`, every term is read
 * whole, and candidates go to `accept` in score order, a page at a time,
 * until `limit` pass or `maxExamined` were seen (`complete: false`).
 */
export async function rankByPostings(
  db: Db,
  phrases: readonly string[],
  totals: { chunks: number; tokens: number; df: ReadonlyMap<string, number> },
  limit: number,
  options: {
    /** Only chunks whose id is set here count (a filter's chunks, when taken ahead). */
    mask?: Uint8Array;
    /** Otherwise a filter checked on the best chunks, in score order (see above). */
    filter?: { accept: (page: readonly ScoredChunk[]) => Promise<ScoredChunk[]>; maxExamined: number };
  } = {},
): Promise<{ ranked: ScoredChunk[]; complete: boolean }> {
  const { mask, filter } = options;
  const avgdl = totals.tokens / Math.max(totals.chunks, 1);
  // weight · f · (k1 + 1) / (f + k1 · (1 − b + b · len / avgdl)), FTS5's bm25() term by term.
  const norm: Norm = { a: K1_PLUS_1, c: K1 * ONE_MINUS_B, d: (K1 * B) / avgdl };
  const weights = new Map<string, number>();
  for (const phrase of phrases) {
    const df = totals.df.get(phrase) ?? 0;
    if (df > 0) weights.set(phrase, (weights.get(phrase) ?? 0) + bm25Idf(totals.chunks, df));
  }
  // Rarest (largest bound) first; `left[i]`: the most the terms from i on can add.
  const terms = [...weights].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const left = terms.map(([, w]) => w * K1_PLUS_1);
  for (let i = left.length - 2; i >= 0; i--) left[i]! += left[i + 1]!;
  const s = spare.pop() ?? new Scratch();
  try {
    let i = 0;
    /** The `limit`-th best partial score when the reading stopped early. */
    let floor = 0;
    for (; i < terms.length; i++) {
      // The k-th best partial score is at most what the terms read so far can add; only when that
      // exceeds what the rest can add is it worth computing (a pass over every chunk touched).
      if (!filter && i > 0 && left[0]! - left[i]! > left[i]!) {
        floor = kthBest(s.scores, s.touched, s.count, limit) * (1 - 1e-12);
        if (left[i]! < floor) break;
      }
      const [term, weight] = terms[i]!;
      const { rows } = await sql<{ first_id: number; data: Uint8Array }>`
        select first_id, data from term_postings where term = ${term} order by first_id`.execute(db);
      for (const r of rows) addBlock(s, Number(r.first_id), r.data, weight, norm, mask, false);
    }
    const order = (a: ScoredChunk, b: ScoredChunk) => b.score - a.score || a.id - b.id;
    if (i < terms.length) {
      // The terms from i on: looked up only for the chunks that can still reach the top.
      const start = floor - left[i]!;
      // Chunks scored but not candidates: out of the race, so out of the accumulators (a term
      // read whole adds only to chunks with a score).
      let kept = 0;
      for (let t = 0; t < s.count; t++) {
        const id = s.touched[t]!;
        if (s.scores[id]! >= start) s.touched[kept++] = id;
        else s.scores[id] = 0;
      }
      s.count = kept;
      let candidates = s.touched.slice(0, kept);
      for (; i < terms.length; i++) {
        const [term, weight] = terms[i]!;
        const df = totals.df.get(term) ?? 0;
        if (candidates.length * blockCapacity(df) * 2 > df) {
          // So many candidates that most blocks would be read anyway: read them all, in one statement.
          const { rows } = await sql<{ first_id: number; data: Uint8Array }>`
            select first_id, data from term_postings where term = ${term}`.execute(db);
          for (const r of rows) addBlock(s, Number(r.first_id), r.data, weight, norm, undefined, true);
        } else {
          const ids = Array.from(candidates).sort((a, b) => a - b);
          for (const [id, f, len] of await lookUp(db, term, ids))
            s.scores[id]! += (weight * norm.a * f) / (f + norm.c + norm.d * len);
        }
        const rest = left[i + 1] ?? 0;
        // Chunks that are not candidates cannot be among the best `limit`: the floor is theirs.
        const least = kthBest(s.scores, candidates, candidates.length, limit) * (1 - 1e-12);
        kept = 0;
        for (let t = 0; t < candidates.length; t++) {
          const id = candidates[t]!;
          if (s.scores[id]! + rest >= least) candidates[kept++] = id;
          else s.scores[id] = 0;
        }
        candidates = candidates.subarray(0, kept);
      }
      const ranked = Array.from(candidates, (id) => ({ id, score: s.scores[id]! })).sort(order);
      return { ranked: ranked.slice(0, limit), complete: true };
    }
    if (!filter) return { ranked: topOf(s.scores, s.touched, s.count, limit).sort(order), complete: true };
    // With filters: candidates in score order, a page at a time, until `limit` pass (a larger top
    // k begins with the smaller one: the order is total).
    const ranked: ScoredChunk[] = [];
    let examined = 0;
    for (let want = Math.max(limit * 4, 100); ; want *= 4) {
      const all = topOf(s.scores, s.touched, s.count, Math.min(want, s.count, filter.maxExamined)).sort(
        order,
      );
      ranked.push(...(await filter.accept(all.slice(examined))));
      examined = all.length;
      if (ranked.length >= limit || examined === s.count)
        return { ranked: ranked.slice(0, limit), complete: true };
      if (examined >= filter.maxExamined) return { ranked, complete: false };
    }
  } finally {
    s.clear();
    spare.push(s);
  }
}

/** The `k`-th best score among the chunks `ids[0..n)` (0 while fewer). */
function kthBest(scores: Float64Array, ids: Int32Array, n: number, k: number): number {
  const best = topOf(scores, ids, n, k);
  return best.length < k || k <= 0 ? 0 : Math.min(...best.map((b) => b.score));
}

/** `term`'s postings of the chunks `ids` (ascending) that hold it: [id, f, len]. */
async function lookUp(
  db: Db,
  term: string,
  ids: readonly number[],
): Promise<Array<[number, number, number]>> {
  const found: Array<[number, number, number]> = [];
  for (let at = 0; at < ids.length; at += 500) {
    const some = ids.slice(at, at + 500);
    const { rows } = await sql<{ first_id: number; data: Uint8Array }>`
      select first_id, data from term_postings where term = ${term} and first_id in (
        select (select max(first_id) from term_postings where term = ${term} and first_id <= v.column1)
        from (values ${sql.join(some.map((id) => sql`(${id})`))}) v)
      order by first_id`.execute(db);
    const wanted = new Set(some);
    for (const r of rows)
      forEachPosting(Number(r.first_id), r.data, (id, f, len) => {
        if (wanted.has(id)) found.push([id, f, len]);
      });
  }
  return found;
}

/** The `k` best of the chunks `ids[0..n)` by `scores` (unordered). */
function topOf(scores: Float64Array, ids: Int32Array, n: number, k: number): ScoredChunk[] {
  if (k <= 0) return [];
  // A min-heap of the best k seen: root = the worst of them.
  const heapIds = new Int32Array(k);
  const heapScores = new Float64Array(k);
  let size = 0;
  const worse = (i: number, j: number) =>
    heapScores[i]! < heapScores[j]! || (heapScores[i] === heapScores[j] && heapIds[i]! > heapIds[j]!);
  const swap = (i: number, j: number) => {
    const id = heapIds[i]!;
    heapIds[i] = heapIds[j]!;
    heapIds[j] = id;
    const v = heapScores[i]!;
    heapScores[i] = heapScores[j]!;
    heapScores[j] = v;
  };
  for (let t = 0; t < n; t++) {
    const id = ids[t]!;
    const score = scores[id]!;
    if (size < k) {
      heapIds[size] = id;
      heapScores[size] = score;
      let i = size++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!worse(i, parent)) break;
        swap(i, parent);
        i = parent;
      }
      continue;
    }
    if (score < heapScores[0]! || (score === heapScores[0] && id > heapIds[0]!)) continue;
    heapIds[0] = id;
    heapScores[0] = score;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < size && worse(l, m)) m = l;
      if (r < size && worse(r, m)) m = r;
      if (m === i) break;
      swap(i, m);
      i = m;
    }
  }
  const out: ScoredChunk[] = [];
  for (let i = 0; i < size; i++) out.push({ id: heapIds[i]!, score: heapScores[i]! });
  return out;
}
