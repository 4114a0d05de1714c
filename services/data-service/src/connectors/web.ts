import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { XMLParser } from "fast-xml-parser";
import { parseHTML } from "linkedom";
import robotsParserModule from "robots-parser";
import { z } from "zod";
import { type NetworkPolicy, publicOnly } from "../net/addresses.js";
import type { SafeResponse } from "../net/safe-fetch.js";
import { type Change, type Connector, type ListingEnd, SourceError } from "./connector.js";
import { extractKind, htmlToMarkdown, pdfToText } from "./extract.js";

export const WebConfig = z.strictObject({
  url: z
    .string()
    .trim()
    .max(2048)
    .refine((v) => /^https?:\/\/[^/]+/i.test(v) && URL.canParse(v), "must be an http:// or https:// URL"),
  /** Links followed from the start page (0: the start page and sitemap pages only). */
  maxDepth: z.number().int().min(0).max(20).default(3),
  maxPages: z.number().int().min(1).max(1_000_000).default(200),
  /** Only pages whose path starts with this are crawled (default: the start URL's folder). */
  pathPrefix: z.string().trim().startsWith("/", "must start with /").max(2048).optional(),
  /** Read the site's sitemaps (robots.txt `Sitemap:` lines and /sitemap.xml) for pages to crawl. */
  sitemap: z.boolean().default(true),
  /** Allow a site on a private network (needs DATA_ALLOW_PRIVATE_NETWORKS too). */
  allowPrivateNetwork: z.boolean().default(false),
});
export type WebConfig = z.output<typeof WebConfig>;

export const CRAWLER_AGENT = "ConHubBot";

// robots-parser is CommonJS (`module.exports = fn`) with typings that claim an ES default export.
type RobotsParser = (
  url: string,
  text: string,
) => {
  isAllowed(url: string, ua?: string): boolean | undefined;
  getCrawlDelay(ua?: string): number | undefined;
  getSitemaps(): string[];
};
const robotsParser = ((robotsParserModule as unknown as { default?: RobotsParser }).default ??
  robotsParserModule) as unknown as RobotsParser;
const MAX_PAGE_BYTES = 5 * 1024 * 1024;
const MAX_SITEMAP_URLS = 50_000;

/** A stable document path for a page: its URL path, as Markdown (`/docs/` → `docs/index.md`). */
export function pagePath(url: URL): string {
  let path = decodeURIComponent(url.pathname).replace(/^\/+/, "");
  if (path === "" || path.endsWith("/")) path += "index";
  path = path
    .split("/")
    .map((s) => (s === "" || s === "." || s === ".." ? "_" : s.replace(/\0/g, "")))
    .join("/");
  if (url.search) path += `_q${createHash("sha256").update(url.search).digest("hex").slice(0, 10)}`;
  return /\.(md|markdown|txt)$/i.test(path) ? path : `${path}.md`;
}

/** The URL without its fragment (what we crawl and compare). */
function normalize(url: URL): string {
  const copy = new URL(url);
  copy.hash = "";
  return copy.href;
}

interface PageState {
  links: string[];
}

/**
 * A web site or docs URL, crawled breadth-first: same origin, under the
 * start URL's folder (or `pathPrefix`), up to `maxDepth` links away and
 * `maxPages` pages, obeying robots.txt (and its crawl delay, up to 5 s),
 * seeded by the sitemaps. A page is kept under its canonical URL when it
 * names one on the same site. Pages are fetched with the ETag or
 * Last-Modified of the last sync; a 304 costs nothing (its links are kept
 * from the last crawl in the source's work folder). Main content is turned
 * into Markdown. Every request, and every redirect, is checked against the
 * network policy; a redirect off the site is not followed into the index.
 */
export function webConnector(env: { network: NetworkPolicy; maxPages: number }): Connector<WebConfig> {
  return {
    type: "web",
    config: WebConfig,
    check(config) {
      return config.maxPages > env.maxPages
        ? [{ field: "config.maxPages", reason: `must be at most ${env.maxPages} (DATA_CRAWL_MAX_PAGES)` }]
        : [];
    },
    root: (config) => config.url,
    async *changes(ctx, scope): AsyncGenerator<Change, ListingEnd, void> {
      const start = new URL(ctx.config.url);
      const origin = start.origin;
      const prefix = ctx.config.pathPrefix ?? start.pathname.slice(0, start.pathname.lastIndexOf("/") + 1);
      const policy = ctx.config.allowPrivateNetwork ? env.network : publicOnly;
      const get = (url: string, headers: Record<string, string> = {}, maxBytes = MAX_PAGE_BYTES) =>
        ctx.fetch(url, { policy, headers, maxBytes, signal: scope.signal });
      const inScope = (url: URL) =>
        url.origin === origin &&
        url.pathname.startsWith(prefix) &&
        (url.protocol === "http:" || url.protocol === "https:");

      // robots.txt: 4xx means no rules; 5xx or no answer means the site cannot be crawled now.
      const robotsUrl = `${origin}/robots.txt`;
      let robotsText = "";
      const robotsRes = await get(robotsUrl, {}, 512 * 1024);
      if (robotsRes.status >= 500) {
        throw new SourceError(
          `${robotsUrl} answered ${robotsRes.status}: the site cannot be crawled now; the next sync tries again.`,
        );
      }
      if (robotsRes.status === 200 && new URL(robotsRes.url).origin === origin)
        robotsText = robotsRes.body.toString("utf8");
      const robots = robotsParser(robotsUrl, robotsText);
      const allowed = (url: string) => robots.isAllowed(url, CRAWLER_AGENT) !== false;
      const delayMs = Math.min(5, robots.getCrawlDelay(CRAWLER_AGENT) ?? 0) * 1000;

      const statePath = join(ctx.workDir, "crawl-links.json");
      const previous = await readFile(statePath, "utf8")
        .then((t) => JSON.parse(t) as Record<string, PageState>)
        .catch(() => ({}) as Record<string, PageState>);
      const next: Record<string, PageState> = {};

      const queue: Array<{ url: string; depth: number }> = [];
      const queued = new Set<string>();
      const enqueue = (raw: string, depth: number) => {
        let url: URL;
        try {
          url = new URL(raw);
        } catch {
          return;
        }
        const key = normalize(url);
        if (queued.has(key) || !inScope(url)) return;
        queued.add(key);
        queue.push({ url: key, depth });
      };
      enqueue(start.href, 0);
      if (ctx.config.sitemap) {
        for (const loc of await sitemapUrls(origin, robots.getSitemaps(), get)) enqueue(loc, 0);
      }

      const emitted = new Set<string>();
      let pages = 0;
      let truncated = false;
      while (queue.length > 0) {
        scope.signal.throwIfAborted();
        if (pages >= ctx.config.maxPages) {
          truncated = true;
          break;
        }
        const { url, depth } = queue.shift()!;
        if (!allowed(url)) continue;
        pages++;
        scope.total(Math.min(ctx.config.maxPages, pages + queue.length));
        const path = pagePath(new URL(url));
        const known = scope.known(path);
        const conditional: Record<string, string> = {};
        if (known?.version.startsWith("etag:")) conditional["if-none-match"] = known.version.slice(5);
        else if (known?.version.startsWith("lm:")) conditional["if-modified-since"] = known.version.slice(3);
        if (delayMs > 0 && pages > 1) await new Promise((r) => setTimeout(r, delayMs));
        let res: SafeResponse;
        try {
          res = await get(url, conditional);
        } catch (err) {
          // The start page decides whether the site can be crawled at all.
          if (pages === 1 || !(err instanceof SourceError)) throw err;
          yield { type: "error", path, reason: err.message };
          continue;
        }
        const final = new URL(res.url);
        if (final.origin !== origin) {
          if (pages === 1)
            throw new SourceError(
              `${url} redirects to another site (${final.origin}): use that URL as the source.`,
            );
          continue;
        }
        if (res.status === 304 && known) {
          const links = previous[url]?.links ?? [];
          next[url] = { links };
          if (!emitted.has(path)) {
            emitted.add(path);
            yield {
              type: "upsert",
              path,
              version: known.version,
              load: () => Promise.reject(new Error("unchanged")),
            };
          }
          if (depth < ctx.config.maxDepth) for (const l of links) enqueue(l, depth + 1);
          continue;
        }
        if (res.status === 404 || res.status === 410) {
          if (pages === 1) throw new SourceError(`${url} answered ${res.status}: check the URL.`);
          continue; // Not emitted: a complete crawl deletes it.
        }
        if (res.status !== 200) {
          if (pages === 1)
            throw new SourceError(`${url} answered ${res.status}: the site cannot be crawled now.`);
          yield { type: "error", path, reason: `answered ${res.status}` };
          continue;
        }
        const type = (res.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
        const kind = extractKind(final.pathname, type);
        let markdown: string;
        let links: string[] = [];
        let canonical: URL | undefined;
        if (kind === "html") {
          const html = res.body.toString("utf8");
          const { document } = parseHTML(html);
          const base = new URL(
            document.querySelector("base[href]")?.getAttribute("href") ?? final.href,
            final,
          );
          for (const a of document.querySelectorAll("a[href]")) {
            const href = a.getAttribute("href");
            const rel = (a.getAttribute("rel") ?? "").toLowerCase();
            if (!href || rel.includes("nofollow")) continue;
            try {
              links.push(normalize(new URL(href, base)));
            } catch {
              // not a URL
            }
          }
          links = [...new Set(links)];
          const canonicalHref = document.querySelector('link[rel="canonical"]')?.getAttribute("href");
          if (canonicalHref && URL.canParse(canonicalHref, final)) {
            const c = new URL(canonicalHref, final);
            if (inScope(c)) canonical = c;
          }
          const robotsMeta = document.querySelector('meta[name="robots"]')?.getAttribute("content") ?? "";
          if (/noindex/i.test(robotsMeta)) {
            next[url] = { links: /nofollow/i.test(robotsMeta) ? [] : links };
            if (depth < ctx.config.maxDepth && !/nofollow/i.test(robotsMeta))
              for (const l of links) enqueue(l, depth + 1);
            continue;
          }
          markdown = htmlToMarkdown(html).markdown;
        } else if (kind === "pdf") {
          markdown = await pdfToText(res.body);
        } else if (type.startsWith("text/")) {
          markdown = res.body.toString("utf8");
        } else {
          continue; // Images, archives…: not documents.
        }
        next[url] = { links };
        if (depth < ctx.config.maxDepth) for (const l of links) enqueue(l, depth + 1);
        const docPath = canonical ? pagePath(canonical) : pagePath(final);
        if (canonical) queued.add(normalize(canonical));
        if (emitted.has(docPath)) continue;
        emitted.add(docPath);
        const etag = res.headers.etag;
        const lastModified = res.headers["last-modified"];
        const content = Buffer.from(markdown, "utf8");
        const version = etag
          ? `etag:${etag}`
          : lastModified
            ? `lm:${lastModified}`
            : `sha:${createHash("sha256").update(content).digest("hex")}`;
        yield {
          type: "upsert",
          path: docPath,
          version,
          load: async () => ({
            content,
            mediaType: "text/markdown",
            metadata: { url: canonical?.href ?? final.href, ...(res.truncated ? { truncated: true } : {}) },
            text: true,
          }),
        };
      }
      await mkdir(ctx.workDir, { recursive: true });
      await writeFile(statePath, JSON.stringify(next));
      // A crawl cut short by maxPages has not seen the whole site: nothing is taken for deleted.
      return { complete: !truncated, cursor: null, root: ctx.config.url };
    },
  };
}

/** Page URLs from the site's sitemaps (and sitemap indexes, one level down). */
async function sitemapUrls(
  origin: string,
  declared: string[],
  get: (url: string, headers?: Record<string, string>, maxBytes?: number) => Promise<SafeResponse>,
): Promise<string[]> {
  const parser = new XMLParser({
    ignoreAttributes: true,
    isArray: (name) => name === "url" || name === "sitemap",
  });
  const found: string[] = [];
  const seen = new Set<string>();
  const pending = [...declared.filter((u) => u.startsWith(origin)), `${origin}/sitemap.xml`];
  let fetched = 0;
  while (pending.length > 0 && fetched < 20 && found.length < MAX_SITEMAP_URLS) {
    const url = pending.shift()!;
    if (seen.has(url)) continue;
    seen.add(url);
    fetched++;
    let res: SafeResponse;
    try {
      res = await get(url, {}, 10 * 1024 * 1024);
    } catch {
      continue;
    }
    if (res.status !== 200 || new URL(res.url).origin !== origin) continue;
    let doc: {
      urlset?: { url?: Array<{ loc?: string }> };
      sitemapindex?: { sitemap?: Array<{ loc?: string }> };
    };
    try {
      doc = parser.parse(res.body.toString("utf8"));
    } catch {
      continue;
    }
    for (const u of doc.urlset?.url ?? []) if (typeof u.loc === "string") found.push(u.loc.trim());
    for (const s of doc.sitemapindex?.sitemap ?? [])
      if (typeof s.loc === "string") pending.push(s.loc.trim());
  }
  return found;
}
