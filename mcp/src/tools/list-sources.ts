import { z } from "zod";
import { uriScheme } from "../uri.js";
import { defineTool } from "./tool.js";

export const listSourcesTool = defineTool({
  name: "list_sources",
  title: "List indexed sources",
  description:
    "Lists the sources ConHub has indexed for you — repositories, folders, document collections — with their ids, where each comes from, how many documents and chunks it holds, and how far semantic (vector) indexing has got. Use it to learn what you can search, to get source ids for the sourceIds filters, or when a search finds nothing. Browse a source's files with list_documents.",
  input: z.strictObject({}),
  async run(_args, { backend }) {
    const sources = await backend.sources();
    const structured = {
      sources: sources.map((s) => ({
        id: s.id,
        root: s.root,
        uriPrefix: `${uriScheme}${encodeURIComponent(s.id)}/`,
        documents: s.documents,
        chunks: s.chunks,
        symbols: s.symbols,
        bytes: s.bytes,
        vectors: s.vectors,
      })),
    };
    if (sources.length === 0) {
      return {
        content: [
          {
            type: "text",
            text: "Nothing is indexed for you yet. Ask the user to connect a source in ConHub (or run `conhub index <directory>` for a local index); until then search, grep and read have nothing to answer from.",
          },
        ],
        structuredContent: structured,
      };
    }
    const lines = sources.map((s) => {
      const vectors =
        s.vectors.chunks === 0
          ? ""
          : s.vectors.embedded === s.vectors.chunks
            ? ", semantic search ready"
            : `, semantic search ${Math.floor((100 * s.vectors.embedded) / s.vectors.chunks)}% indexed`;
      return `- ${s.id}  (${s.root})\n  ${s.documents} documents, ${s.chunks} chunks, ${s.symbols} symbols${vectors}\n  documents: ${uriScheme}${encodeURIComponent(s.id)}/<path>`;
    });
    return {
      content: [
        {
          type: "text",
          text: `${sources.length} source${sources.length === 1 ? "" : "s"}:\n${lines.join("\n")}`,
        },
      ],
      structuredContent: structured,
    };
  },
});
