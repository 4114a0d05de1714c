import {
  ErrorCode,
  McpError,
  type ReadResourceResult,
  type Resource,
  type ResourceTemplate,
} from "@modelcontextprotocol/sdk/types.js";
import { BackendError, type ContextBackend } from "./backend/port.js";
import { documentLines } from "./lines.js";
import { documentUri, documentUriTemplate, parseDocumentUri } from "./uri.js";

/** The spec's code for "resource not found". */
export const resourceNotFound = -32002;

/** Documents per page of `resources/list`. */
export const resourcePageSize = 200;

export const documentTemplate: ResourceTemplate = {
  uriTemplate: documentUriTemplate,
  name: "document",
  title: "Indexed document",
  description:
    "Any document ConHub has indexed for you: sourceId from list_sources, path relative to the source root. Reading it returns its text as indexed (secrets redacted).",
  mimeType: "text/plain",
};

interface Cursor {
  /** Source to continue in. */
  s: string;
  /** Last path listed in it. */
  a?: string;
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString("base64url");
}

function decodeCursor(value: string): Cursor {
  try {
    const parsed = JSON.parse(Buffer.from(value, "base64url").toString("utf8")) as Cursor;
    if (typeof parsed.s === "string" && (parsed.a === undefined || typeof parsed.a === "string"))
      return parsed;
  } catch {
    // fall through
  }
  throw new McpError(
    ErrorCode.InvalidParams,
    "Invalid cursor: pass the nextCursor of the previous resources/list answer unchanged.",
  );
}

/** Backend failures on the protocol side: a missing document is "resource not found", the rest keep their sentence. */
export function protocolError(err: unknown): McpError {
  if (err instanceof McpError) return err;
  if (err instanceof BackendError) {
    if (err.kind === "not_found") return new McpError(resourceNotFound, `Resource not found: ${err.message}`);
    if (err.kind === "invalid") return new McpError(ErrorCode.InvalidParams, err.message);
    return new McpError(ErrorCode.InternalError, err.message);
  }
  return new McpError(ErrorCode.InternalError, "Reading the resource failed on the server; try again.");
}

/**
 * `resources/list`: every document of every source of the caller, by source
 * id then path, `resourcePageSize` at a time. The cursor names the source
 * and the last path, so a listing survives documents added meanwhile.
 */
export async function listDocumentResources(
  backend: ContextBackend,
  cursorValue: string | undefined,
): Promise<{ resources: Resource[]; nextCursor?: string }> {
  const cursor = cursorValue === undefined ? undefined : decodeCursor(cursorValue);
  const sources = (await backend.sources()).map((s) => s.id).sort();
  let index = cursor ? sources.findIndex((id) => id >= cursor.s) : 0;
  let after = cursor && sources[index] === cursor.s ? cursor.a : undefined;
  const resources: Resource[] = [];
  while (index !== -1 && index < sources.length && resources.length < resourcePageSize) {
    const sourceId = sources[index]!;
    const page = await backend.documents(sourceId, {
      limit: resourcePageSize - resources.length,
      ...(after !== undefined ? { after } : {}),
    });
    for (const d of page.documents) {
      resources.push({
        uri: documentUri(sourceId, d.path),
        name: d.path,
        title: `${d.path} (${sourceId})`,
        mimeType: "text/plain",
        size: d.bytes,
        annotations: { lastModified: d.indexedAt },
      });
    }
    if (page.next !== undefined) {
      return { resources, nextCursor: encodeCursor({ s: sourceId, a: page.next }) };
    }
    index += 1;
    after = undefined;
  }
  const next = index !== -1 && index < sources.length ? encodeCursor({ s: sources[index]! }) : undefined;
  return next === undefined ? { resources } : { resources, nextCursor: next };
}

/** `resources/read` of a `conhub://` URI: the document's text as indexed. */
export async function readDocumentResource(
  backend: ContextBackend,
  uri: string,
): Promise<ReadResourceResult> {
  const parsed = parseDocumentUri(uri);
  if (!parsed.ok) throw new McpError(ErrorCode.InvalidParams, parsed.reason);
  let document: Awaited<ReturnType<ContextBackend["document"]>>;
  try {
    document = await backend.document(parsed.ref.sourceId, parsed.ref.path);
  } catch (err) {
    throw protocolError(err);
  }
  const lines = documentLines(document.chunks);
  const text = lines.length === 0 ? "" : `${lines.join("\n")}\n`;
  return {
    contents: [{ uri: documentUri(document.sourceId, document.path), mimeType: document.mediaType, text }],
  };
}
