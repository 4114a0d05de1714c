import { BUILTIN_RULES, PLACEHOLDER, type SecretRule } from "./rules.js";

/**
 * Secret redaction before anything is stored or embedded. Each match (or its
 * secret group) becomes `[REDACTED:<rule id>]` followed by as many newlines
 * as it spanned, so every line keeps its number and chunks stay aligned with
 * the original file.
 */

export interface RedactionResult {
  text: string;
  /** Matches replaced, per rule id (rules with none are absent). */
  counts: Record<string, number>;
  total: number;
}

interface CompiledRule {
  rule: SecretRule;
  regex: RegExp;
  allow: RegExp | undefined;
}

export interface Redactor {
  readonly rules: readonly SecretRule[];
  redact(text: string): RedactionResult;
}

/** Shannon entropy of a string, in bits per character. */
export function shannonEntropy(value: string): number {
  if (value.length === 0) return 0;
  const counts = new Map<number, number>();
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let entropy = 0;
  for (const count of counts.values()) {
    const p = count / value.length;
    entropy -= p * Math.log2(p);
  }
  return entropy;
}

/** Compiles rules once (throws on an invalid pattern, naming the rule). */
export function createRedactor(rules: readonly SecretRule[] = BUILTIN_RULES): Redactor {
  const compiled: CompiledRule[] = rules.map((rule) => {
    try {
      const flags = new Set(`gd${rule.flags ?? ""}`);
      return {
        rule,
        regex: new RegExp(rule.pattern, [...flags].join("")),
        allow: rule.allow ? new RegExp(rule.allow, "i") : undefined,
      };
    } catch (error) {
      throw new Error(`secret rule "${rule.id}": ${(error as Error).message}`);
    }
  });
  return { rules, redact: (text) => redactWith(compiled, text) };
}

function secretSpan(match: RegExpExecArray, group: SecretRule["group"]): [number, number] | undefined {
  const indices = match.indices!;
  if (group === undefined) return indices[0];
  if (group === "first") {
    for (let g = 1; g < indices.length; g++) if (indices[g]) return indices[g];
    return undefined;
  }
  return indices[group];
}

function redactWith(rules: CompiledRule[], input: string): RedactionResult {
  const counts: Record<string, number> = {};
  let total = 0;
  let text = input;
  let lower: string | undefined;
  for (const { rule, regex, allow } of rules) {
    if (rule.keywords) {
      lower ??= input.toLowerCase();
      const source = lower;
      if (!rule.keywords.some((k) => source.includes(k))) continue;
    }
    regex.lastIndex = 0;
    let out = "";
    let copied = 0;
    let count = 0;
    for (let match = regex.exec(text); match; match = regex.exec(text)) {
      if (match[0].length === 0) {
        regex.lastIndex++;
        continue;
      }
      const span = secretSpan(match, rule.group);
      if (!span) continue;
      const secret = text.slice(span[0], span[1]);
      if (PLACEHOLDER.test(secret) || secret.includes("[REDACTED:")) continue;
      if (rule.minEntropy !== undefined && shannonEntropy(secret) < rule.minEntropy) continue;
      if (allow?.test(text.slice(Math.max(0, match.index - 40), match.index + match[0].length))) continue;
      let newlines = 0;
      for (let i = secret.indexOf("\n"); i !== -1; i = secret.indexOf("\n", i + 1)) newlines++;
      out += `${text.slice(copied, span[0])}[REDACTED:${rule.id}]${"\n".repeat(newlines)}`;
      copied = span[1];
      count++;
    }
    if (count > 0) {
      text = out + text.slice(copied);
      counts[rule.id] = count;
      total += count;
    }
  }
  return { text, counts, total };
}

let defaultRedactor: Redactor | undefined;

/** Redacts with the built-in rules. */
export function redactSecrets(text: string): RedactionResult {
  defaultRedactor ??= createRedactor();
  return defaultRedactor.redact(text);
}
