import type { Node } from "web-tree-sitter";
import type { ChunkKind, SymbolKind } from "../document.js";
import { type LineIndex, lineWindows, type Span } from "./lines.js";
import { type ChunkingOptions, tokensToChars } from "./options.js";
import type { OutlineLevel } from "./outline.js";

/**
 * Cuts a file into chunks along its outline:
 *
 * - every definition is a chunk, from its attached doc comments and
 *   decorators to its last line;
 * - a container (class, namespace, impl, trait…) larger than a small chunk is
 *   cut into its members: each method is a chunk, and the container's own
 *   code (header, fields, code between members) forms chunks of the
 *   container's kind with the container's path. A container's closing line
 *   (`}`, `end`) joins the chunk before it;
 * - code between definitions (imports, constants, statements) forms `module`
 *   chunks (or the container's kind inside a container);
 * - consecutive small chunks of the same container are merged (up to
 *   `mergeUpToTokens`); a merged chunk keeps the path of its one definition,
 *   or takes its container's path when it holds several;
 * - a chunk larger than `maxChunkTokens` is split at the starts of its inner
 *   nodes (statements, members, blocks), recursively, and at worst in line
 *   windows.
 *
 * Chunks never share a row and together cover every non-blank row.
 */

export interface Piece extends Span {
  kind: ChunkKind;
  path: string;
}

interface Segment {
  startRow: number;
  endRow: number;
  kind: ChunkKind;
  path: string;
  /** Path of the container the segment belongs to (`""` at top level): only siblings merge. */
  group: string;
  /** Kind and path a merged run takes. */
  groupKind: ChunkKind;
  definitions: number;
  /** Nodes whose starts are the boundaries a too-large segment is split at. */
  nodes: Node[];
}

/** Every definition kind is also a chunk kind (see `document.ts`). */
function chunkKindOf(kind: SymbolKind): ChunkKind {
  return kind;
}

/** A row range holding only closing tokens (`}`, `};`, `end`, `)`). */
function isClosingOnly(index: LineIndex, lo: number, hi: number): boolean {
  if (hi - lo > 2) return false;
  return /^[\s});\]]*(end)?[\s});\],]*(\/\/[^\n]*|#[^\n]*)?\s*$/.test(
    index.text.slice(index.start(lo), index.end(hi)),
  );
}

class Segmenter {
  readonly segments: Segment[] = [];
  constructor(
    private readonly index: LineIndex,
    private readonly smallChars: number,
  ) {}

  level(level: OutlineLevel, lo: number, hi: number, kind: ChunkKind, path: string): void {
    let cursor = lo;
    for (const item of level.items) {
      const start = Math.max(item.start, cursor);
      if (start > item.end) continue;
      if (start > cursor) this.glue(level, cursor, start - 1, kind, path);
      const itemKind = chunkKindOf(item.kind);
      if (
        item.members &&
        item.members.items.length > 0 &&
        this.index.size(start, item.end) > this.smallChars
      ) {
        const first = this.segments.length;
        this.level(item.members, start, item.end, itemKind, item.path);
        this.joinTinyHeader(first, item.path);
      } else {
        this.segments.push({
          startRow: start,
          endRow: item.end,
          kind: itemKind,
          path: item.path,
          group: path,
          groupKind: kind,
          definitions: 1,
          nodes: [item.node],
        });
      }
      cursor = item.end + 1;
    }
    if (cursor <= hi) this.glue(level, cursor, hi, kind, path);
  }

  /** A container's header of a line or two (`namespace x {`, `class A:`) joins its first member's chunk. */
  private joinTinyHeader(first: number, path: string): void {
    const header = this.segments[first];
    const next = this.segments[first + 1];
    if (
      !header ||
      !next ||
      header.definitions !== 1 ||
      header.path !== path ||
      (header.kind === next.kind && header.path === next.path)
    )
      return;
    if (
      header.endRow - header.startRow > 1 ||
      this.index.size(header.startRow, header.endRow) >= this.smallChars / 2
    )
      return;
    next.startRow = header.startRow;
    // A class's header names the chunk it starts; a namespace's leaves the name to its member.
    if (header.kind !== "namespace") {
      next.kind = header.kind;
      next.path = header.path;
    }
    next.nodes = header.nodes.concat(next.nodes);
    this.segments.splice(first, 1);
  }

  private glue(level: OutlineLevel, lo: number, hi: number, kind: ChunkKind, path: string): void {
    const rows = this.index.trim(lo, hi);
    if (!rows) return;
    const last = this.segments[this.segments.length - 1];
    if (last && last.endRow < rows[0] && isClosingOnly(this.index, rows[0], rows[1])) {
      last.endRow = rows[1];
      return;
    }
    const nodes = level.nodes.filter((n) => n.endPosition.row >= rows[0] && n.startPosition.row <= rows[1]);
    this.segments.push({
      startRow: rows[0],
      endRow: rows[1],
      kind,
      path,
      group: path,
      groupKind: kind,
      // Code inside a container (its header, fields) stands for the container itself.
      definitions: path === "" ? 0 : 1,
      nodes,
    });
  }
}

function mergeSmall(
  index: LineIndex,
  segments: Segment[],
  smallChars: number,
  mergeChars: number,
): Segment[] {
  const merged: Segment[] = [];
  let runSmall = false;
  for (const segment of segments) {
    const size = index.size(segment.startRow, segment.endRow);
    const small = size < smallChars;
    const last = merged[merged.length - 1];
    if (
      last &&
      runSmall &&
      small &&
      last.group === segment.group &&
      index.size(last.startRow, segment.endRow) <= mergeChars
    ) {
      const definitions = last.definitions + segment.definitions;
      if (definitions > 1 || (definitions === 0 && last.definitions === 0)) {
        last.kind = last.groupKind;
        last.path = last.group;
      } else if (segment.definitions === 1) {
        last.kind = segment.kind;
        last.path = segment.path;
      }
      last.definitions = definitions;
      last.endRow = segment.endRow;
      last.nodes = last.nodes.concat(segment.nodes);
      continue;
    }
    merged.push({ ...segment });
    runSmall = small;
  }
  return merged;
}

/** Rows `lo..hi` cut at the starts of `nodes` (and of their descendants when one is too large). */
function splitRows(
  index: LineIndex,
  lo: number,
  hi: number,
  nodes: Node[],
  maxChars: number,
  out: Span[],
): void {
  if (index.size(lo, hi) <= maxChars) {
    out.push(index.rows(lo, hi));
    return;
  }
  let cursor = lo;
  // Comments directly above a node stay with it when a cut falls before the node.
  let commentStart = -1;
  let previousEnd = -2;
  for (const node of nodes) {
    const isComment = node.type.includes("comment");
    const previousEndRow = previousEnd;
    previousEnd = node.endPosition.row;
    const start = Math.max(node.startPosition.row, cursor);
    const end = Math.min(node.endPosition.row, hi);
    if (start > end) continue;
    if (!isComment && commentStart !== -1 && node.startPosition.row > previousEndRow + 1) commentStart = -1;
    if (index.size(cursor, end) <= maxChars) {
      if (isComment) commentStart = commentStart === -1 ? start : commentStart;
      else commentStart = -1;
      continue;
    }
    const cut = !isComment && commentStart > cursor ? commentStart : start;
    commentStart = isComment ? start : -1;
    if (cut > cursor) {
      pushRows(index, cursor, cut - 1, maxChars, out);
      cursor = cut;
    }
    if (index.size(cursor, end) > maxChars) {
      const children = node.namedChildren.filter((c): c is Node => c !== null);
      const inner: Span[] = [];
      if (children.length > 0 && !(children.length === 1 && sameRows(children[0]!, node))) {
        splitRows(index, cursor, end, children, maxChars, inner);
      } else if (children.length === 1) {
        splitRows(
          index,
          cursor,
          end,
          children[0]!.namedChildren.filter((c): c is Node => c !== null),
          maxChars,
          inner,
        );
      } else {
        inner.push(...windows(index, cursor, end, maxChars));
      }
      // Keep the last piece open so the following siblings can join it.
      const lastInner = inner.pop();
      out.push(...inner);
      if (lastInner && lastInner.from === index.start(lastInner.startRow) && lastInner.startRow >= cursor) {
        cursor = lastInner.startRow;
      } else {
        if (lastInner) out.push(lastInner);
        cursor = end + 1;
      }
      commentStart = -1;
    }
  }
  if (cursor <= hi) pushRows(index, cursor, hi, maxChars, out);
}

function pushRows(index: LineIndex, lo: number, hi: number, maxChars: number, out: Span[]): void {
  if (index.size(lo, hi) <= maxChars) out.push(index.rows(lo, hi));
  else out.push(...windows(index, lo, hi, maxChars));
}

function sameRows(a: Node, b: Node): boolean {
  return a.startPosition.row === b.startPosition.row && a.endPosition.row === b.endPosition.row;
}

function windows(index: LineIndex, lo: number, hi: number, maxChars: number): Span[] {
  return lineWindows(index, lo, hi, { maxLines: Number.MAX_SAFE_INTEGER, maxChars, overlapLines: 0 });
}

/** The pieces (rows, kind, path) a parsed file is cut into. */
export function chunkOutline(index: LineIndex, root: OutlineLevel, options: ChunkingOptions): Piece[] {
  if (index.count === 0) return [];
  const smallChars = tokensToChars(options.smallChunkTokens);
  const maxChars = tokensToChars(options.maxChunkTokens);
  const segmenter = new Segmenter(index, smallChars);
  segmenter.level(root, 0, index.count - 1, "module", "");
  const segments = mergeSmall(index, segmenter.segments, smallChars, tokensToChars(options.mergeUpToTokens));
  const pieces: Piece[] = [];
  for (const segment of segments) {
    const spans: Span[] = [];
    splitRows(index, segment.startRow, segment.endRow, segment.nodes, maxChars, spans);
    for (const span of spans) {
      if (span.from === index.start(span.startRow) && span.to === index.end(span.endRow)) {
        const rows = index.trim(span.startRow, span.endRow);
        if (!rows) continue;
        pieces.push({ ...index.rows(rows[0], rows[1]), kind: segment.kind, path: segment.path });
      } else {
        pieces.push({ ...span, kind: segment.kind, path: segment.path });
      }
    }
  }
  return pieces;
}
