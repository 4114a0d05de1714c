/**
 * Identifier-aware tokens for the keyword index.
 *
 * Plan for SQLite FTS5 (`unicode61` tokenizer, which splits on anything that
 * is not a letter or digit, so `snake_case` splits by itself but
 * `camelCase` does not): the indexed column gets `ftsText(chunk.text)` — the
 * original text, then one line of extra terms: for every distinct identifier
 * with several parts, its lower-cased parts and the whole identifier with
 * its separators removed (`parse_http_response` → `parsehttpresponse`).
 * A query goes through `queryTerms`, which produces the same forms, so
 * `parseHTTPResponse`, `parse_http_response` and `http response` all find
 * the chunk. The extra terms are added once per chunk (not once per
 * occurrence) so they do not inflate term frequencies; BM25 still sees the
 * original occurrences. PostgreSQL gets the same text through
 * `to_tsvector('simple', …)`. The `trigram` index (grep) takes the original
 * text only.
 */

const IDENTIFIER = /[A-Za-z_$][A-Za-z0-9_$]*/g;
const PART = /[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+/g;

/** The parts of one identifier, lower-cased: `parseHTTPResponse2` → `parse`, `http`, `response`, `2`. */
export function splitIdentifier(identifier: string): string[] {
  const parts: string[] = [];
  for (const match of identifier.matchAll(PART)) parts.push(match[0].toLowerCase());
  return parts;
}

/** Parts plus the whole identifier (lower-cased, separators kept), without duplicates. */
export function identifierTokens(identifier: string): string[] {
  const parts = splitIdentifier(identifier);
  const whole = identifier.toLowerCase();
  return parts.includes(whole) ? parts : [...parts, whole];
}

/** Every token of a text: for each identifier, its parts and the whole identifier. */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  for (const match of text.matchAll(IDENTIFIER)) tokens.push(...identifierTokens(match[0]));
  return tokens;
}

/** Identifiers that are one part by `PART`'s rules (`value`, `Value`, `VALUE`): nothing to expand. */
const ONE_PART = /^(?:[A-Z]?[a-z]+|[A-Z]+)$/;

/** The extra terms for one text: distinct compound identifiers' parts and joined forms. */
export function expansionTerms(text: string): string[] {
  // This runs over every byte indexed: an `exec` loop (no match iterator), and most
  // identifiers (plain words, repeats) end at a set lookup.
  const seen = new Set<string>();
  const terms = new Set<string>();
  const identifiers = new RegExp(IDENTIFIER.source, "g");
  for (let match = identifiers.exec(text); match !== null; match = identifiers.exec(text)) {
    const identifier = match[0];
    if (seen.has(identifier)) continue;
    seen.add(identifier);
    if (ONE_PART.test(identifier)) continue;
    const parts = splitIdentifier(identifier);
    if (parts.length < 2) continue;
    for (const part of parts) terms.add(part);
    terms.add(parts.join(""));
  }
  return [...terms];
}

/** A chunk column as the word index counts it (body, symbol path, file name, directory): the text plus its expansion terms. */
export function ftsText(text: string): string {
  const line = expansionTerms(text).join(" ");
  return line === "" ? text : `${text}\n${line}`;
}

/** Terms for a query: each word's parts and its joined form, so queries match `ftsText` forms. */
export function queryTerms(query: string): string[] {
  const terms = new Set<string>();
  for (const match of query.matchAll(IDENTIFIER)) {
    const parts = splitIdentifier(match[0]);
    if (parts.length > 1) terms.add(parts.join(""));
    for (const part of parts) terms.add(part);
  }
  for (const match of query.matchAll(/[0-9]+/g)) terms.add(match[0]);
  return [...terms];
}
