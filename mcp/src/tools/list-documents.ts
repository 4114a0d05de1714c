import { z } from "zod";
import { documentUri } from "../uri.js";
import { defineTool } from "./tool.js";

export const listDocumentsTool = defineTool({
  name: "list_documents",
  title: "List a source's documents",
  description:
    'Lists the indexed documents of one source by path (alphabetical), optionally only those under a path prefix ("src/auth/"), with language and size — like `ls -R` over what ConHub holds. Paginated: when more remain, the answer gives the `after` value for the next call. Use search to find documents by content.',
  input: z.strictObject({
    sourceId: z.string().min(1).max(200).describe("The source (an id from list_sources)."),
    prefix: z
      .string()
      .max(4096)
      .optional()
      .describe('Only paths starting with this, e.g. "src/" or "docs/guide".'),
    after: z
      .string()
      .max(4096)
      .optional()
      .describe("Continue after this path (from the previous page's note)."),
    limit: z.number().int().min(1).max(1000).default(200).describe("Most documents to list (default 200)."),
  }),
  async run(args, { backend }) {
    const page = await backend.documents(args.sourceId, {
      limit: args.limit,
      ...(args.prefix ? { prefix: args.prefix.replace(/^\/+/, "") } : {}),
      ...(args.after ? { after: args.after } : {}),
    });
    const documents = page.documents.map((d) => ({ uri: documentUri(args.sourceId, d.path), ...d }));
    const structured = { sourceId: args.sourceId, documents, next: page.next ?? null };
    if (documents.length === 0) {
      return {
        content: [
          {
            type: "text",
            text: args.prefix
              ? `No documents under ${JSON.stringify(args.prefix)} in ${args.sourceId}; try a shorter prefix, or none.`
              : `No documents${args.after ? " after that path" : ""} in ${args.sourceId}.`,
          },
        ],
        structuredContent: structured,
      };
    }
    const lines = page.documents.map((d) => `${d.path}  (${d.language}, ${d.bytes} bytes)`);
    const more = page.next
      ? `\n[More: call list_documents with sourceId=${JSON.stringify(args.sourceId)}${args.prefix ? `, prefix=${JSON.stringify(args.prefix)}` : ""} and after=${JSON.stringify(page.next)}.]`
      : "";
    return {
      content: [
        {
          type: "text",
          text: `${documents.length} document${documents.length === 1 ? "" : "s"} in ${args.sourceId} (read one with read {"sourceId": ${JSON.stringify(args.sourceId)}, "path": "<path>"}):\n${lines.join("\n")}${more}`,
        },
      ],
      structuredContent: structured,
    };
  },
});
