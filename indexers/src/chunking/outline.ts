import type { Node, Tree } from "web-tree-sitter";
import type { SymbolKind } from "../document.js";
import type { GrammarSpec } from "./grammars.js";

/**
 * The outline of a parsed file: its definitions and, inside containers
 * (classes, namespaces, impls…), their members, with the rows each covers.
 * Chunks and symbols are both read from it, so a file is parsed once.
 * Only definitions reachable through containers are outlined; functions
 * local to a function body stay inside their function's chunk.
 */

export interface OutlineItem {
  /** First row, including the doc comments and decorators attached above the definition. */
  start: number;
  /** First row of the definition itself (without attached comments). */
  defStart: number;
  end: number;
  kind: SymbolKind;
  name: string;
  /** `class Router > method handle`. */
  path: string;
  /** Name of the enclosing definition, null at top level. */
  container: string | null;
  /** The node the item's lines come from (a wrapper such as `export …` when there is one). */
  node: Node;
  /** The members, when the definition is a container with a body. */
  members?: OutlineLevel;
}

export interface OutlineLevel {
  /** The level's nodes in order (transparent nodes expanded): material for splitting the code between items. */
  nodes: Node[];
  items: OutlineItem[];
}

const CLASS_LIKE: ReadonlySet<SymbolKind> = new Set([
  "class",
  "interface",
  "struct",
  "enum",
  "trait",
  "impl",
]);

interface Resolved {
  kind: SymbolKind;
  label: string | undefined;
  name: string;
  display: string;
  container: boolean;
  /** The enclosing type named by the definition itself (a Go method's receiver). */
  containerName: string | undefined;
  /** The definition node itself (inside any wrapper): where the body is looked up. */
  defNode: Node;
}

function resolve(node: Node, spec: GrammarSpec, depth: number): Resolved | undefined {
  const rule = spec.definitions[node.type];
  if (rule) {
    const named = spec.name?.(node);
    const name = named?.name ?? node.childForFieldName("name")?.text ?? "(anonymous)";
    return {
      kind: named?.kind ?? rule.kind,
      label: rule.label,
      name,
      display: named?.display ?? name,
      container: rule.container === true,
      containerName: named?.container,
      defNode: node,
    };
  }
  const value = spec.valueDefinitions?.(node);
  if (value) {
    return {
      kind: value.kind,
      label: undefined,
      name: value.name,
      display: value.name,
      container: value.kind === "class",
      containerName: undefined,
      defNode: value.valueNode,
    };
  }
  if (depth < 3 && spec.wrappers.has(node.type)) {
    for (const child of node.namedChildren) {
      if (!child || spec.attached.has(child.type)) continue;
      const inner = resolve(child, spec, depth + 1);
      if (inner) return inner;
    }
  }
  return undefined;
}

function expand(nodes: (Node | null)[], spec: GrammarSpec, out: Node[]): Node[] {
  for (const node of nodes) {
    if (!node) continue;
    if (spec.transparent.has(node.type)) expand(node.namedChildren, spec, out);
    else out.push(node);
  }
  return out;
}

function bodyOf(node: Node, spec: GrammarSpec): (Node | null)[] {
  const body = node.childForFieldName("body");
  if (body && spec.bodies.has(body.type)) return body.namedChildren;
  for (const child of node.namedChildren) {
    if (child && spec.bodies.has(child.type)) return child.namedChildren;
  }
  // C#'s file-scoped namespace holds its members directly.
  return node.namedChildren;
}

interface Parent {
  kind: SymbolKind;
  name: string;
  path: string;
}

function buildLevel(
  children: (Node | null)[],
  spec: GrammarSpec,
  parent: Parent | undefined,
  depth: number,
): OutlineLevel {
  const nodes = expand(children, spec, []);
  const items: OutlineItem[] = [];
  let attachedStart = -1;
  let attachedEnd = -1;
  for (const node of nodes) {
    const startRow = node.startPosition.row;
    if (spec.attached.has(node.type)) {
      if (attachedStart === -1 || startRow > attachedEnd + 1) attachedStart = startRow;
      attachedEnd = node.endPosition.row;
      continue;
    }
    const resolved = resolve(node, spec, 0);
    if (resolved) {
      let kind = resolved.kind;
      if (kind === "function" && parent && CLASS_LIKE.has(parent.kind)) kind = "method";
      const segment = `${resolved.label ?? kind} ${resolved.display}`;
      const path = parent ? `${parent.path} > ${segment}` : segment;
      const start = attachedStart !== -1 && attachedEnd >= startRow - 1 ? attachedStart : startRow;
      const item: OutlineItem = {
        start,
        defStart: resolved.defNode.startPosition.row,
        end: node.endPosition.row,
        kind,
        name: resolved.name,
        path,
        container: parent?.name ?? resolved.containerName ?? null,
        node,
      };
      if (resolved.container && depth < 12) {
        item.members = buildLevel(
          bodyOf(resolved.defNode, spec),
          spec,
          { kind, name: resolved.name, path },
          depth + 1,
        );
      }
      items.push(item);
    }
    attachedStart = -1;
  }
  return { nodes, items };
}

/** The outline of a parsed file. */
export function outline(tree: Tree, spec: GrammarSpec): OutlineLevel {
  return buildLevel(tree.rootNode.namedChildren, spec, undefined, 0);
}
