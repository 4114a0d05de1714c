import type { FileHandle } from "node:fs/promises";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { FsToolError } from "../errors.js";
import { openRegularFile } from "../files.js";
import { formatBytes, sniff, sniffBytes, utf8Boundary } from "../text.js";
import { pathField, type Register, readOnly } from "./deps.js";
import { guarded } from "./result.js";

export const defaultReadBytes = 65_536;
export const maxReadBytes = 1_048_576;
const chunkBytes = 65_536;

export interface ReadWindow {
  startLine: number;
  endLine: number;
  maxBytes: number;
}

export interface ReadOutcome {
  text: string;
  /** Last line included (startLine - 1 when nothing was). */
  lastLine: number;
  /** Lines in the file, when the read reached its end. */
  totalLines: number | null;
  /** Where to continue, or null at the end of the file or the requested range. */
  nextStartLine: number | null;
  /** A single line longer than maxBytes was cut (at a character boundary). */
  truncatedLine: number | null;
  /** Stopped because maxBytes was reached. */
  byteLimited: boolean;
}

/**
 * Reads a window of lines from an open file, streaming: only the bytes up to
 * the window's end are read, at most maxBytes are kept, and output is only
 * ever cut at a line end or, for one overlong line, at a UTF-8 character boundary.
 */
export async function readWindow(
  handle: FileHandle,
  size: number,
  display: string,
  window: ReadWindow,
): Promise<ReadOutcome> {
  const chunk = Buffer.allocUnsafe(chunkBytes);
  const out: Buffer[] = [];
  let outBytes = 0;
  let line: Buffer[] = [];
  let lineBytes = 0;
  let lineNo = 1;
  let position = 0;
  let first = true;
  let endsWithNewline = false;
  let sawBytes = false;
  const outcome = (partial: Partial<ReadOutcome>): ReadOutcome => ({
    text: Buffer.concat(out).toString("utf8"),
    lastLine: window.startLine - 1,
    totalLines: null,
    nextStartLine: null,
    truncatedLine: null,
    byteLimited: false,
    ...partial,
  });

  for (;;) {
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, position);
    if (bytesRead === 0) break;
    position += bytesRead;
    let buf = chunk.subarray(0, bytesRead);
    if (first) {
      first = false;
      const kind = sniff(buf.subarray(0, sniffBytes));
      if (kind === "binary") {
        throw new FsToolError(
          `${display} is a binary file (${formatBytes(size)}), not UTF-8 text; read_file only returns text. Use file_info for its size and dates.`,
        );
      }
      if (kind === "utf-16") {
        throw new FsToolError(`${display} is UTF-16 encoded text; read_file only reads UTF-8.`);
      }
      if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
    }
    if (buf.length > 0) sawBytes = true;
    let pos = 0;
    while (pos < buf.length) {
      const nl = buf.indexOf(10, pos);
      const end = nl === -1 ? buf.length : nl + 1;
      if (lineNo >= window.startLine && lineNo <= window.endLine) {
        const piece = buf.subarray(pos, end);
        if (outBytes + lineBytes + piece.length > window.maxBytes) {
          if (outBytes === 0) {
            const whole = Buffer.concat([...line, piece]);
            const cut = utf8Boundary(whole, window.maxBytes);
            out.push(whole.subarray(0, cut));
            return outcome({
              lastLine: lineNo,
              truncatedLine: lineNo,
              byteLimited: true,
              nextStartLine: lineNo + 1,
            });
          }
          return outcome({ lastLine: lineNo - 1, nextStartLine: lineNo, byteLimited: true });
        }
        line.push(Buffer.from(piece));
        lineBytes += piece.length;
      }
      if (nl !== -1) {
        if (lineBytes > 0) {
          out.push(...line);
          outBytes += lineBytes;
          line = [];
          lineBytes = 0;
        }
        lineNo += 1;
        if (lineNo > window.endLine) {
          const more = end < buf.length || position < size;
          return outcome({ lastLine: lineNo - 1, nextStartLine: more ? lineNo : null });
        }
      }
      endsWithNewline = nl !== -1;
      pos = end;
    }
  }
  if (lineBytes > 0) {
    out.push(...line);
    outBytes += lineBytes;
  }
  const totalLines = !sawBytes ? 0 : endsWithNewline ? lineNo - 1 : lineNo;
  if (window.startLine > Math.max(totalLines, 1)) {
    throw new FsToolError(
      `startLine ${window.startLine} is past the end of ${display}, which has ${totalLines} line${totalLines === 1 ? "" : "s"}.`,
    );
  }
  return outcome({ lastLine: Math.min(totalLines, window.endLine), totalLines });
}

// Built once: building schemas per request (stateless HTTP builds a server per call) costs milliseconds.
const readFileTool = {
  title: "Read a text file",
  description:
    'Returns the exact text of a UTF-8 file, or of a range of its lines (startLine/endLine, 1-based, inclusive). At most maxBytes are returned per call, always ending at a line boundary; when the file or range continues, a note after the text gives the startLine to call next. Binary files are refused (use file_info for them). Set lineNumbers to prefix each line with its number ("<n>\\t"), handy for citing lines.',
  inputSchema: z.strictObject({
    path: pathField("File to read"),
    startLine: z.number().int().min(1).default(1).describe("First line to return (1-based)."),
    endLine: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe("Last line to return (inclusive); default: to the end."),
    maxBytes: z
      .number()
      .int()
      .min(1)
      .max(maxReadBytes)
      .default(defaultReadBytes)
      .describe(`Most bytes of text to return (default ${defaultReadBytes}, at most ${maxReadBytes}).`),
    lineNumbers: z.boolean().default(false).describe("Prefix each line with its line number and a tab."),
  }),
  annotations: { ...readOnly, idempotentHint: true },
};

export const registerReadFile: Register = (server, { sandbox, logger }) => {
  server.registerTool(
    "read_file",
    readFileTool,
    guarded("read_file", logger, async ({ path, startLine, endLine, maxBytes, lineNumbers }) => {
      if (endLine !== undefined && endLine < startLine) {
        throw new FsToolError(`endLine (${endLine}) is before startLine (${startLine}).`);
      }
      const file = await sandbox.resolve(path);
      if (file.stats?.isDirectory()) {
        throw new FsToolError(`${file.display} is a directory; use list_directory or directory_tree on it.`);
      }
      const handle = await openRegularFile(file.real, file.display);
      let result: ReadOutcome;
      let size: number;
      try {
        size = (await handle.stat()).size;
        result = await readWindow(handle, size, file.display, {
          startLine,
          endLine: endLine ?? Number.MAX_SAFE_INTEGER,
          maxBytes,
        });
      } finally {
        await handle.close();
      }
      let text = result.text;
      if (lineNumbers && text.length > 0) {
        const lines = text.split("\n");
        if (lines.at(-1) === "") lines.pop();
        text = lines.map((l, i) => `${startLine + i}\t${l}`).join("\n");
      }
      const range = result.lastLine >= startLine ? `lines ${startLine}–${result.lastLine}` : "no lines";
      const notes: string[] = [];
      if (result.totalLines !== null) {
        notes.push(`${file.display}: ${range} of ${result.totalLines} (end of file).`);
      } else {
        notes.push(`${file.display}: ${range} (${formatBytes(size)} in all).`);
      }
      if (result.truncatedLine !== null) {
        notes.push(
          `Line ${result.truncatedLine} is longer than maxBytes=${maxBytes} and was cut; raise maxBytes (up to ${maxReadBytes}) to see more of it, or use search_content to find text inside it.`,
        );
      } else if (result.byteLimited) {
        notes.push(`Stopped at maxBytes=${maxBytes}.`);
      }
      if (result.nextStartLine !== null) {
        notes.push(`More follows: call read_file with startLine=${result.nextStartLine} to continue.`);
      }
      const content: CallToolResult["content"] = [];
      if (text.length > 0) content.push({ type: "text", text });
      content.push({ type: "text", text: `[${notes.join(" ")}]` });
      return { content };
    }),
  );
};
