import { z } from "zod";
import { BackendError, type DocumentAnswer } from "../backend/port.js";
import { documentLines } from "../lines.js";
import { documentUri } from "../uri.js";
import { filtersOf, languagesField, numbered, pathGlobField, sourceIdsField } from "./fields.js";
import { defineTool } from "./tool.js";

/** A passage longer than this is cut (the citation keeps its full range). */
export const passageMaxLines = 80;

export const askTool = defineTool({
  name: "ask",
  title: "Ask a question about the indexed sources",
  description:
    "Answers a question about your code and documents from what ConHub has indexed. ConHub's AI service is not available yet, so this tool does not write an answer: it returns the passages most relevant to the question (whole functions, classes or sections, with line numbers), best first, each with a citation [n] and its conhub:// URI and lines. Compose the answer yourself from them and cite them; if they do not answer the question, use search with other words, grep or read.",
  input: z.strictObject({
    question: z
      .string()
      .trim()
      .min(1, "must not be empty")
      .max(1000, "must be at most 1000 characters")
      .describe('The question, in words: "How are failed webhook deliveries retried?"'),
    limit: z
      .number()
      .int()
      .min(1)
      .max(10)
      .default(5)
      .describe("How many passages to return (1–10, default 5)."),
    sourceIds: sourceIdsField,
    path: pathGlobField,
    languages: languagesField,
  }),
  async run(args, { backend, signal }) {
    const answer = await backend.search({
      query: args.question,
      limit: args.limit,
      mode: "hybrid",
      filters: filtersOf(args),
      signal,
    });
    if (answer.results.length === 0) {
      return {
        content: [
          {
            type: "text",
            text: `No passage in your indexed sources matches ${JSON.stringify(args.question)}. Try the words or identifiers the code would use, search with mode "keyword", grep, or list_sources to check what is indexed.`,
          },
        ],
        structuredContent: { answer: null, passages: [] },
      };
    }
    // Whole passages, not snippets: each document is read once, however many passages it holds.
    const documents = new Map<string, Promise<DocumentAnswer | undefined>>();
    const documentOf = (sourceId: string, path: string) => {
      const key = documentUri(sourceId, path);
      let pending = documents.get(key);
      if (!pending) {
        pending = backend.document(sourceId, path).catch((err) => {
          if (err instanceof BackendError && err.kind === "not_found") return undefined; // deleted since the search
          throw err;
        });
        documents.set(key, pending);
      }
      return pending;
    };
    const fetched = await Promise.all(answer.results.map((r) => documentOf(r.sourceId, r.path)));
    const passages = [];
    for (const [i, r] of answer.results.entries()) {
      const document = fetched[i];
      let text = r.snippet;
      let firstLine = r.snippetLine;
      let cut = false;
      if (document) {
        const lines = documentLines(document.chunks);
        const end = Math.min(r.endLine, r.startLine + passageMaxLines - 1, lines.length);
        text = lines.slice(r.startLine - 1, end).join("\n");
        firstLine = r.startLine;
        cut = end < r.endLine;
      }
      passages.push({
        citation: i + 1,
        uri: documentUri(r.sourceId, r.path, { start: r.startLine, end: r.endLine }),
        sourceId: r.sourceId,
        path: r.path,
        startLine: r.startLine,
        endLine: r.endLine,
        symbol: r.symbol,
        language: r.language,
        text,
        firstLine,
        cut,
      });
    }
    const blocks = passages.map((p) => {
      const symbol = p.symbol ? ` — ${p.symbol}` : "";
      const more = p.cut
        ? `\n    … (${p.endLine - p.firstLine + 1 - passageMaxLines} more lines: read ${p.uri})`
        : "";
      return `[${p.citation}] ${p.path}:${p.startLine}-${p.endLine}${symbol}\n    ${p.uri}\n${numbered(p.text, p.firstLine)}${more}`;
    });
    const notice = answer.notice ? `Note: ${answer.notice}\n` : "";
    const text = `${notice}No AI answer is available yet (ConHub's AI service is not part of this server): here are the ${passages.length} passage${passages.length === 1 ? "" : "s"} most relevant to the question, best first. Answer from them and cite them as [n]; read a URI for more context.\n\n${blocks.join("\n\n")}`;
    return {
      content: [{ type: "text", text }],
      structuredContent: { answer: null, passages },
    };
  },
});
