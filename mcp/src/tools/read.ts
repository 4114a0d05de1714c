import { z } from "zod";
import { BackendError, type ContextBackend, type DocumentAnswer } from "../backend/port.js";
import { documentLines, lineWindow } from "../lines.js";
import { documentUri, parseDocumentUri } from "../uri.js";
import { numbered } from "./fields.js";
import { defineTool, ToolError } from "./tool.js";

export const defaultReadLines = 400;
export const maxReadLines = 2000;
/** About 25k tokens: a window never grows past this, whatever maxLines says. */
export const maxReadChars = 100_000;

export const readInput = z
  .strictObject({
    uri: z
      .string()
      .min(1)
      .max(8192)
      .optional()
      .describe(
        'The document\'s URI as search, grep, find_symbol and list_documents return it: "conhub://<sourceId>/<path>". A "#L10-L40" suffix selects those lines.',
      ),
    sourceId: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe("With path, instead of uri: the source id (from list_sources)."),
    path: z
      .string()
      .min(1)
      .max(4096)
      .optional()
      .describe(
        "With sourceId, instead of uri: the document's path relative to its source root. Without sourceId, every source is tried.",
      ),
    startLine: z.number().int().min(1).optional().describe("First line to return (1-based). Default 1."),
    endLine: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe("Last line to return (inclusive). Default: the end."),
    maxLines: z
      .number()
      .int()
      .min(1)
      .max(maxReadLines)
      .default(defaultReadLines)
      .describe(
        `Most lines to return in this call (default ${defaultReadLines}, at most ${maxReadLines}); a note says where to continue.`,
      ),
    lineNumbers: z
      .boolean()
      .default(false)
      .describe('Prefix each line with its number and a tab ("12\\t…").'),
  })
  .superRefine((args, ctx) => {
    if (args.uri === undefined && args.path === undefined) {
      ctx.addIssue({ code: "custom", message: "give uri, or path (with sourceId)", path: ["uri"] });
    }
    if (args.uri !== undefined && (args.path !== undefined || args.sourceId !== undefined)) {
      ctx.addIssue({ code: "custom", message: "give either uri or sourceId+path, not both", path: ["uri"] });
    }
    if (args.startLine !== undefined && args.endLine !== undefined && args.endLine < args.startLine) {
      ctx.addIssue({
        code: "custom",
        message: `endLine (${args.endLine}) is before startLine (${args.startLine})`,
        path: ["endLine"],
      });
    }
  });

/** Finds a path in whichever of the caller's sources holds it, when no source was named. */
async function findInSources(backend: ContextBackend, path: string): Promise<DocumentAnswer> {
  const sources = await backend.sources();
  if (sources.length === 0) {
    throw new ToolError("nothing is indexed for you yet, so there is no document to read.");
  }
  const found: DocumentAnswer[] = [];
  for (const source of sources.slice(0, 50)) {
    try {
      found.push(await backend.document(source.id, path));
    } catch (err) {
      if (!(err instanceof BackendError && err.kind === "not_found")) throw err;
    }
  }
  if (found.length === 1) return found[0]!;
  if (found.length > 1) {
    throw new ToolError(
      `${JSON.stringify(path)} exists in ${found.length} sources; pass one of these URIs: ${found.map((d) => documentUri(d.sourceId, d.path)).join(", ")}.`,
    );
  }
  throw new ToolError(
    `no source holds ${JSON.stringify(path)}. Use search or list_documents to find the right path (paths are relative to the source root).`,
  );
}

export const readTool = defineTool({
  name: "read",
  title: "Read an indexed document",
  description:
    'Returns the exact text of an indexed document, or of a range of its lines (startLine/endLine, 1-based, inclusive) — use it after search, grep or find_symbol to see the code itself before relying on it. Name the document by its URI ("conhub://<sourceId>/<path>", as results give it) or by sourceId and path. Long documents come in windows of maxLines lines; a note after the text says which startLine to ask for next. Text is as indexed: secrets were redacted at indexing time.',
  input: readInput,
  async run(args, { backend }) {
    let document: DocumentAnswer;
    let range = { start: args.startLine, end: args.endLine };
    if (args.uri !== undefined) {
      const parsed = parseDocumentUri(args.uri);
      if (!parsed.ok) throw new ToolError(parsed.reason);
      if (range.start === undefined && range.end === undefined && parsed.ref.lines) {
        range = { start: parsed.ref.lines.start, end: parsed.ref.lines.end };
      }
      document = await backend.document(parsed.ref.sourceId, parsed.ref.path);
    } else {
      const path = args.path!.replace(/^\/+/, "");
      document =
        args.sourceId !== undefined
          ? await backend.document(args.sourceId, path)
          : await findInSources(backend, path);
    }
    const uri = documentUri(document.sourceId, document.path);
    const lines = documentLines(document.chunks);
    const total = lines.length;
    const start = range.start ?? 1;
    if (start > Math.max(total, 1)) {
      throw new ToolError(
        `startLine ${start} is past the end of ${uri}, which has ${total} line${total === 1 ? "" : "s"}.`,
      );
    }
    const window = lineWindow(lines, start, range.end ?? total, args.maxLines, maxReadChars);
    const text = args.lineNumbers ? numbered(window.text, start) : window.text;
    const shown = window.endLine >= start ? `lines ${start}–${window.endLine} of ${total}` : "no lines";
    const notes = [`${uri}: ${shown} (${document.language}, indexed ${document.indexedAt}).`];
    if (window.nextStartLine !== null) {
      notes.push(
        `${window.charLimited ? `Stopped at ${maxReadChars} characters. ` : ""}More follows: call read with startLine=${window.nextStartLine}${range.end !== undefined ? ` and endLine=${range.end}` : ""} to continue.`,
      );
    } else if (window.endLine === total && total > 0) {
      notes.push("End of document.");
    }
    const content: Array<{ type: "text"; text: string }> = [];
    if (text.length > 0) content.push({ type: "text", text });
    content.push({ type: "text", text: `[${notes.join(" ")}]` });
    return {
      content,
      structuredContent: {
        uri,
        sourceId: document.sourceId,
        path: document.path,
        language: document.language,
        startLine: start,
        endLine: window.endLine,
        totalLines: total,
        nextStartLine: window.nextStartLine,
      },
    };
  },
});
