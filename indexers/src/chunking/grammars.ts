import type { Node } from "web-tree-sitter";
import type { SymbolKind } from "../document.js";
import type { Language } from "../languages.js";

/**
 * Per-language node-type tables for the tree-sitter chunker, written from the
 * trees `tree-sitter-wasms` 0.1.13 grammars actually produce (printed from
 * sample files; the fixtures under `fixtures/` pin them in tests).
 */

export interface DefinitionRule {
  kind: SymbolKind;
  /** Word used in symbol paths (`class`, `method`, `impl`, `module`…); defaults to the kind. */
  label?: string;
  /** Whether members inside its body are definitions of their own (classes, namespaces, impls…). */
  container?: boolean;
}

export interface GrammarSpec {
  /** Node types that define something. */
  definitions: Record<string, DefinitionRule>;
  /** Node types that wrap one definition (`export …`, decorators, templates); the wrapper's lines belong to it. */
  wrappers: ReadonlySet<string>;
  /** Node types attached to the definition that follows them (doc comments, decorators, attributes). */
  attached: ReadonlySet<string>;
  /** Node types of container bodies, searched among a container's named children. */
  bodies: ReadonlySet<string>;
  /** Node types whose children count as siblings of theirs (`#ifdef` blocks, `extern "C" {}`, enum body declarations). */
  transparent: ReadonlySet<string>;
  /** Declarations of functions as values: `const f = () => {}`, class fields holding arrow functions. */
  valueDefinitions?: (node: Node) => { kind: SymbolKind; name: string; valueNode: Node } | undefined;
  /** Name and display text when the `name` field is not the answer. */
  name?: (
    node: Node,
  ) => { name: string; display?: string; kind?: SymbolKind; container?: string } | undefined;
}

const set = (...types: string[]): ReadonlySet<string> => new Set(types);

const FUNCTION_VALUES = set("arrow_function", "function_expression", "function", "generator_function");

function jsValueDefinitions(node: Node): { kind: SymbolKind; name: string; valueNode: Node } | undefined {
  if (node.type === "lexical_declaration" || node.type === "variable_declaration") {
    if (node.namedChildCount !== 1) return undefined;
    const declarator = node.namedChild(0);
    if (declarator?.type !== "variable_declarator") return undefined;
    const value = declarator.childForFieldName("value");
    const name = declarator.childForFieldName("name");
    if (!value || !name || name.type !== "identifier") return undefined;
    if (FUNCTION_VALUES.has(value.type)) return { kind: "function", name: name.text, valueNode: value };
    if (value.type === "class") return { kind: "class", name: name.text, valueNode: value };
    return undefined;
  }
  if (node.type === "public_field_definition" || node.type === "field_definition") {
    const value = node.childForFieldName("value");
    const name = node.childForFieldName("name") ?? node.childForFieldName("property");
    if (value && name && FUNCTION_VALUES.has(value.type))
      return { kind: "method", name: name.text, valueNode: value };
  }
  return undefined;
}

const JS_DEFINITIONS: Record<string, DefinitionRule> = {
  class_declaration: { kind: "class", container: true },
  abstract_class_declaration: { kind: "class", container: true },
  class: { kind: "class", container: true },
  interface_declaration: { kind: "interface" },
  enum_declaration: { kind: "enum" },
  type_alias_declaration: { kind: "type" },
  function_declaration: { kind: "function" },
  generator_function_declaration: { kind: "function" },
  function_signature: { kind: "function" },
  method_definition: { kind: "method" },
  abstract_method_signature: { kind: "method" },
  internal_module: { kind: "namespace", container: true },
  module: { kind: "namespace", label: "module", container: true },
};

const JS: GrammarSpec = {
  definitions: JS_DEFINITIONS,
  wrappers: set("export_statement", "ambient_declaration", "expression_statement"),
  attached: set("comment", "decorator"),
  bodies: set("class_body", "statement_block", "object_type"),
  transparent: set(),
  valueDefinitions: jsValueDefinitions,
};

/** The identifier a C/C++ declarator chain ends in (`*f(void)` → `f`, `A::m` → `A::m`). */
function declaratorName(node: Node): string | undefined {
  let current: Node | null = node.childForFieldName("declarator");
  for (let depth = 0; current && depth < 8; depth++) {
    switch (current.type) {
      case "identifier":
      case "field_identifier":
      case "type_identifier":
      case "qualified_identifier":
      case "operator_name":
      case "destructor_name":
        return current.text;
    }
    current = current.childForFieldName("declarator") ?? current.namedChild(0);
  }
  return undefined;
}

function cName(node: Node): { name: string } | undefined {
  if (node.type === "function_definition" || node.type === "type_definition") {
    const name = declaratorName(node);
    return name === undefined ? undefined : { name };
  }
  return undefined;
}

const C_DEFINITIONS: Record<string, DefinitionRule> = {
  function_definition: { kind: "function" },
  struct_specifier: { kind: "struct" },
  union_specifier: { kind: "struct", label: "union" },
  enum_specifier: { kind: "enum" },
  type_definition: { kind: "type", label: "typedef" },
};

const C: GrammarSpec = {
  definitions: C_DEFINITIONS,
  wrappers: set(),
  attached: set("comment"),
  bodies: set(),
  transparent: set(
    "preproc_ifdef",
    "preproc_if",
    "preproc_else",
    "preproc_elif",
    "linkage_specification",
    "declaration_list",
  ),
  name: cName,
};

const CPP: GrammarSpec = {
  definitions: {
    ...C_DEFINITIONS,
    struct_specifier: { kind: "struct", container: true },
    class_specifier: { kind: "class", container: true },
    namespace_definition: { kind: "namespace", container: true },
  },
  wrappers: set("template_declaration"),
  attached: set("comment"),
  bodies: set("field_declaration_list", "declaration_list"),
  transparent: set("preproc_ifdef", "preproc_if", "preproc_else", "preproc_elif", "linkage_specification"),
  name: cName,
};

const PYTHON: GrammarSpec = {
  definitions: {
    class_definition: { kind: "class", container: true },
    function_definition: { kind: "function" },
  },
  wrappers: set("decorated_definition"),
  attached: set("comment"),
  bodies: set("block"),
  transparent: set(),
};

function goName(
  node: Node,
): { name: string; display?: string; kind?: SymbolKind; container?: string } | undefined {
  if (node.type === "method_declaration") {
    const name = node.childForFieldName("name")?.text ?? "";
    const receiver = node.childForFieldName("receiver");
    const type = receiver
      ? /([A-Za-z_][A-Za-z0-9_]*)\s*(?:\[[^\]]*\])?\s*\)\s*$/.exec(receiver.text)?.[1]
      : undefined;
    return type ? { name, display: `${type}.${name}`, container: type } : { name };
  }
  if (node.type === "type_declaration") {
    const spec = node.namedChildren.find((c) => c?.type === "type_spec" || c?.type === "type_alias");
    if (!spec) return undefined;
    const name = spec.childForFieldName("name")?.text ?? "";
    const type = spec.childForFieldName("type")?.type;
    const kind: SymbolKind =
      type === "struct_type" ? "struct" : type === "interface_type" ? "interface" : "type";
    return { name, kind };
  }
  return undefined;
}

const GO: GrammarSpec = {
  definitions: {
    function_declaration: { kind: "function" },
    method_declaration: { kind: "method" },
    type_declaration: { kind: "type" },
  },
  wrappers: set(),
  attached: set("comment"),
  bodies: set(),
  transparent: set(),
  name: goName,
};

function rustName(node: Node): { name: string; display?: string } | undefined {
  if (node.type !== "impl_item") return undefined;
  const type = node.childForFieldName("type")?.text ?? "?";
  const trait = node.childForFieldName("trait")?.text;
  return { name: type, display: trait ? `${trait} for ${type}` : type };
}

const RUST: GrammarSpec = {
  definitions: {
    function_item: { kind: "function" },
    function_signature_item: { kind: "function" },
    struct_item: { kind: "struct" },
    union_item: { kind: "struct", label: "union" },
    enum_item: { kind: "enum" },
    trait_item: { kind: "trait", container: true },
    impl_item: { kind: "impl", container: true },
    mod_item: { kind: "namespace", label: "module", container: true },
    macro_definition: { kind: "function", label: "macro" },
    type_item: { kind: "type" },
  },
  wrappers: set(),
  attached: set("line_comment", "block_comment", "attribute_item"),
  bodies: set("declaration_list"),
  transparent: set(),
  name: rustName,
};

const JAVA: GrammarSpec = {
  definitions: {
    class_declaration: { kind: "class", container: true },
    interface_declaration: { kind: "interface", container: true },
    enum_declaration: { kind: "enum", container: true },
    record_declaration: { kind: "class", label: "record", container: true },
    annotation_type_declaration: { kind: "interface", label: "@interface", container: true },
    method_declaration: { kind: "method" },
    constructor_declaration: { kind: "method", label: "constructor" },
    compact_constructor_declaration: { kind: "method", label: "constructor" },
  },
  wrappers: set(),
  attached: set("line_comment", "block_comment"),
  bodies: set("class_body", "interface_body", "enum_body", "annotation_type_body"),
  transparent: set("enum_body_declarations"),
};

const CSHARP: GrammarSpec = {
  definitions: {
    class_declaration: { kind: "class", container: true },
    struct_declaration: { kind: "struct", container: true },
    interface_declaration: { kind: "interface", container: true },
    enum_declaration: { kind: "enum" },
    record_declaration: { kind: "class", label: "record", container: true },
    record_struct_declaration: { kind: "struct", label: "record struct", container: true },
    namespace_declaration: { kind: "namespace", container: true },
    file_scoped_namespace_declaration: { kind: "namespace", container: true },
    method_declaration: { kind: "method" },
    constructor_declaration: { kind: "method", label: "constructor" },
    destructor_declaration: { kind: "method", label: "destructor" },
    operator_declaration: { kind: "method", label: "operator" },
    delegate_declaration: { kind: "type", label: "delegate" },
  },
  wrappers: set(),
  attached: set("comment"),
  bodies: set("declaration_list"),
  transparent: set(),
};

function rubyName(node: Node): { name: string; display?: string } | undefined {
  if (node.type === "singleton_method") {
    const name = node.childForFieldName("name")?.text ?? "";
    const object = node.childForFieldName("object")?.text ?? "self";
    return { name, display: `${object}.${name}` };
  }
  if (node.type === "singleton_class") {
    return { name: "self", display: `<< ${node.childForFieldName("value")?.text ?? "self"}` };
  }
  return undefined;
}

const RUBY: GrammarSpec = {
  definitions: {
    class: { kind: "class", container: true },
    module: { kind: "namespace", label: "module", container: true },
    singleton_class: { kind: "class", container: true },
    method: { kind: "function" },
    singleton_method: { kind: "method" },
  },
  wrappers: set(),
  attached: set("comment"),
  bodies: set("body_statement"),
  transparent: set(),
  name: rubyName,
};

const PHP: GrammarSpec = {
  definitions: {
    class_declaration: { kind: "class", container: true },
    interface_declaration: { kind: "interface", container: true },
    trait_declaration: { kind: "trait", container: true },
    enum_declaration: { kind: "enum", container: true },
    namespace_definition: { kind: "namespace", container: true },
    function_definition: { kind: "function" },
    method_declaration: { kind: "method" },
  },
  wrappers: set(),
  attached: set("comment"),
  bodies: set("declaration_list", "enum_declaration_list", "compound_statement"),
  transparent: set(),
};

export const GRAMMAR_SPECS: Partial<Record<Language, GrammarSpec>> = {
  typescript: JS,
  tsx: JS,
  javascript: JS,
  python: PYTHON,
  go: GO,
  rust: RUST,
  java: JAVA,
  c: C,
  cpp: CPP,
  csharp: CSHARP,
  ruby: RUBY,
  php: PHP,
};
