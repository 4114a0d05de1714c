import type { BlobStore } from "@conhub/storage";
import { z } from "zod";
import type { Change, Connector, ListingEnd } from "./connector.js";
import { extractText } from "./extract.js";

export const UploadConfig = z.strictObject({});
export type UploadConfig = z.output<typeof UploadConfig>;

/** Where an upload source's files are kept in the blob store. */
export const uploadPrefix = (sourceId: string) => `uploads/${sourceId}/`;

/**
 * Files uploaded through `POST /api/data/sources/:id/files`, kept in the
 * blob store. PDF, DOCX and HTML are turned into Markdown text when they are
 * synced; Markdown, text and code go as they are. A file's version is its
 * size and upload time.
 */
export function uploadConnector(blobs: () => Promise<BlobStore>): Connector<UploadConfig> {
  return {
    type: "upload",
    config: UploadConfig,
    root: () => "upload",
    async *changes(ctx, scope): AsyncGenerator<Change, ListingEnd, void> {
      const store = await blobs();
      const prefix = uploadPrefix(ctx.sourceId);
      const files = [];
      for await (const info of store.list(prefix)) files.push(info);
      files.sort((a, b) => (a.key < b.key ? -1 : 1));
      scope.total(
        files.length,
        files.reduce((n, f) => n + f.size, 0),
      );
      for (const info of files) {
        const path = info.key.slice(prefix.length);
        yield {
          type: "upsert",
          path,
          version: `${info.size}:${info.modifiedAt.getTime()}`,
          load: async () => {
            const data = await store.get(info.key);
            if (!data) throw new Error(`the uploaded file ${path} is gone from the blob store`);
            const extracted = await extractText(path, data);
            if (extracted) {
              return {
                content: Buffer.from(extracted.text, "utf8"),
                mediaType: extracted.mediaType,
                text: true,
              };
            }
            return { content: data };
          },
        };
      }
      return { complete: true, cursor: null, root: "upload" };
    },
  };
}
