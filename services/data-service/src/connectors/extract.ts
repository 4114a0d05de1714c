import { Readability } from "@mozilla/readability";
import { parseHTML } from "linkedom";
import TurndownService from "turndown";

/**
 * Text out of documents people upload or publish: PDF (unpdf, pdf.js),
 * DOCX (mammoth), HTML (Readability's main content, then Markdown with
 * turndown). Everything else is sent as it is (the indexer detects
 * binaries and languages itself).
 */

export type ExtractKind = "pdf" | "docx" | "html" | "as-is";

export function extractKind(path: string, mediaType?: string): ExtractKind {
  const lower = path.toLowerCase();
  const type = (mediaType ?? "").split(";")[0]!.trim().toLowerCase();
  if (lower.endsWith(".pdf") || type === "application/pdf") return "pdf";
  if (
    lower.endsWith(".docx") ||
    type === "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
  )
    return "docx";
  if (/\.x?html?$/.test(lower) || type === "text/html" || type === "application/xhtml+xml") return "html";
  return "as-is";
}

export async function pdfToText(data: Uint8Array): Promise<string> {
  const { extractText, getDocumentProxy } = await import("unpdf");
  const pdf = await getDocumentProxy(new Uint8Array(data));
  const { text } = await extractText(pdf, { mergePages: false });
  return (text as string[]).map((page, i) => `<!-- page ${i + 1} -->\n${page.trim()}`).join("\n\n");
}

export async function docxToText(data: Uint8Array): Promise<string> {
  const mammoth = await import("mammoth");
  const html = (await mammoth.convertToHtml({ buffer: Buffer.from(data) })).value;
  return htmlToMarkdown(`<html><body>${html}</body></html>`, { readability: false }).markdown;
}

const turndown = new TurndownService({
  headingStyle: "atx",
  codeBlockStyle: "fenced",
  bulletListMarker: "-",
});
turndown.remove([
  "script",
  "style",
  "noscript",
  "iframe",
  "form",
  "button",
] as unknown as TurndownService.Filter);

export interface HtmlText {
  title: string | undefined;
  markdown: string;
}

/** The page's main content as Markdown (navigation, headers and footers dropped when Readability finds an article). */
export function htmlToMarkdown(html: string, options: { readability?: boolean } = {}): HtmlText {
  const { document } = parseHTML(html);
  const title = document.querySelector("title")?.textContent?.trim() || undefined;
  let body: string | undefined;
  if (options.readability !== false) {
    try {
      const article = new Readability(document.cloneNode(true) as unknown as Document, {
        charThreshold: 100,
      }).parse();
      if (article?.content && (article.textContent ?? "").trim().length > 0) body = article.content;
    } catch {
      // Fall back to the whole body.
    }
  }
  body ??= document.querySelector("body")?.innerHTML ?? html;
  const markdown = turndown.turndown(body).trim();
  return { title, markdown: title && !markdown.startsWith("# ") ? `# ${title}\n\n${markdown}` : markdown };
}

/** Extracted text (as UTF-8) for the kinds that need it; undefined for content sent as it is. */
export async function extractText(
  path: string,
  data: Uint8Array,
  mediaType?: string,
): Promise<{ text: string; mediaType: string } | undefined> {
  switch (extractKind(path, mediaType)) {
    case "pdf":
      return { text: await pdfToText(data), mediaType: "text/markdown" };
    case "docx":
      return { text: await docxToText(data), mediaType: "text/markdown" };
    case "html":
      return {
        text: htmlToMarkdown(Buffer.from(data).toString("utf8")).markdown,
        mediaType: "text/markdown",
      };
    default:
      return undefined;
  }
}
