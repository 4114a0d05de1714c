import { createServer, request as httpRequest, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docx, pdf } from "./data-documents.js";
import {
  type Caller,
  type DataPlatform,
  documentPaths,
  searchPaths,
  settled,
  startDataPlatform,
  stores,
  syncNow,
} from "./data-helpers.js";

/**
 * The web crawler against a local site (links, robots.txt, a sitemap, a
 * canonical URL, redirects, ETags, a redirect to a private address) and
 * upload sources (PDF, DOCX, HTML, Markdown; refused types and sizes).
 */

interface Site {
  server: Server;
  url: string;
  pages: Map<string, { body?: string; type?: string; etag?: string; status?: number; location?: string }>;
  log: Array<{ path: string; status: number; ifNoneMatch?: string }>;
}

async function startSite(): Promise<Site> {
  const pages: Site["pages"] = new Map();
  const log: Site["log"] = [];
  const server = createServer((req, res) => {
    const path = req.url ?? "/";
    const page = pages.get(path);
    const inm = req.headers["if-none-match"];
    let status = 404;
    if (page) {
      if (page.location) {
        status = page.status ?? 301;
        res.writeHead(status, { location: page.location });
        res.end();
      } else if (page.etag && inm === page.etag) {
        status = 304;
        res.writeHead(304, { etag: page.etag });
        res.end();
      } else {
        status = page.status ?? 200;
        res.writeHead(status, {
          "content-type": page.type ?? "text/html; charset=utf-8",
          ...(page.etag ? { etag: page.etag } : {}),
        });
        res.end(page.body);
      }
    } else {
      res.writeHead(404);
      res.end("not found");
    }
    log.push({ path, status, ...(typeof inm === "string" ? { ifNoneMatch: inm } : {}) });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { server, url, pages, log };
}

const UPLOAD_LIMIT = 3 * 1024 * 1024;

/** A multipart upload of one file of `size` bytes over node:http; resolves with the answer as soon as it arrives. */
function rawUpload(
  url: string,
  key: string,
  name: string,
  size: number,
): Promise<{ status: number; contentType: string; body: string }> {
  const boundary = `----conhub${Date.now()}`;
  const head = Buffer.from(
    `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="${name}"\r\ncontent-type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, {
      method: "POST",
      headers: {
        authorization: `Bearer ${key}`,
        "content-type": `multipart/form-data; boundary=${boundary}`,
        "content-length": String(head.length + size + tail.length),
      },
    });
    let answered = false;
    req.on("response", (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", () => undefined);
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          contentType: String(res.headers["content-type"] ?? ""),
          body: Buffer.concat(chunks).toString("utf8"),
        }),
      );
    });
    // Writing may fail once the server has answered and closed; only an error before any answer counts.
    req.on("error", (err) => {
      if (!answered) reject(err);
    });
    req.write(head);
    const chunk = Buffer.alloc(64 * 1024, "a");
    for (let left = size; left > 0; left -= chunk.length)
      req.write(left >= chunk.length ? chunk : chunk.subarray(0, left));
    req.end(tail);
  });
}

const html = (title: string, body: string, head = "") =>
  `<!doctype html><html><head><title>${title}</title>${head}</head><body><nav><a href="/docs/">Home</a></nav><main><article><h1>${title}</h1>${body}</article></main><footer>Footer boilerplate</footer></body></html>`;

describe.each(stores)("data service: web and upload sources ($name)", ({ env: storeEnv }) => {
  let p: DataPlatform;
  let alice: Caller;
  let site: Site;

  beforeAll(async () => {
    site = await startSite();
    // The site is on 127.0.0.1: the admin allows exactly that address; sources must still ask.
    p = await startDataPlatform(storeEnv, {
      DATA_ALLOW_PRIVATE_NETWORKS: "127.0.0.1/32",
      // Above the service kit's 1 MiB body limit (HTTP_BODY_LIMIT_BYTES): the upload route has its own.
      DATA_UPLOAD_MAX_BYTES: String(UPLOAD_LIMIT),
    });
    alice = await p.signUp(`alice-${Date.now()}@example.com`);
  }, 120_000);
  afterAll(async () => {
    await new Promise((r) => site?.server.close(r));
    await p?.stop();
  });

  it("crawls a site: links, robots.txt, sitemap, canonical URLs, redirects, ETags; then picks up changes and removals", async () => {
    const u = site.url;
    site.pages.set("/robots.txt", {
      type: "text/plain",
      body: `User-agent: *\nDisallow: /docs/private\n\nSitemap: ${u}/sitemap.xml\n`,
    });
    site.pages.set("/sitemap.xml", {
      type: "application/xml",
      body: `<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>${u}/docs/from-sitemap</loc></url></urlset>`,
    });
    site.pages.set("/docs/", {
      body: html(
        "Docs home",
        `<p>Welcome to the handbook of the nimbus platform, the place where every team documents its work.</p>
         <a href="/docs/install">Install</a> <a href="/docs/config?ref=home">Configure</a> <a href="/docs/private/keys">Keys</a>
         <a href="/blog/post">Blog</a> <a href="https://example.com/elsewhere">Elsewhere</a> <a href="/docs/old">Old</a>
         <a href="/docs/evil">Evil</a>`,
      ),
    });
    site.pages.set("/docs/install", {
      etag: '"install-v1"',
      body: html(
        "Install",
        "<p>Run the quokka installer, then restart the service so that the configuration is read again.</p>",
      ),
    });
    site.pages.set("/docs/config?ref=home", {
      body: html(
        "Configure",
        "<p>Set the wombat threshold in the settings file; the default suits most teams that run a single region.</p>",
        `<link rel="canonical" href="${u}/docs/config">`,
      ),
    });
    site.pages.set("/docs/private/keys", { body: html("Keys", "<p>disallowed platypus secrets</p>") });
    site.pages.set("/blog/post", { body: html("Blog", "<p>outside the docs: echidna</p>") });
    site.pages.set("/docs/old", { location: "/docs/new" });
    site.pages.set("/docs/new", {
      body: html(
        "New page",
        "<p>The dingo migration guide explains how to move every project to the new layout.</p>",
      ),
    });
    site.pages.set("/docs/evil", { location: "http://169.254.169.254/latest/meta-data/" });
    site.pages.set("/docs/from-sitemap", {
      body: html(
        "From the sitemap",
        "<p>Only the sitemap knows about the bilby page, which no other page links to.</p>",
      ),
    });

    const created = await p.call(alice, "POST", "/api/data/sources", {
      type: "web",
      name: "docs site",
      config: { url: `${u}/docs/`, allowPrivateNetwork: true },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.source.id;
    let source = await settled(p, alice, id);
    expect(source.status, source.statusMessage).toBe("idle");
    expect(await documentPaths(p, alice, id)).toEqual([
      "docs/config.md",
      "docs/from-sitemap.md",
      "docs/index.md",
      "docs/install.md",
      "docs/new.md",
    ]);
    expect(await searchPaths(p, alice, id, "quokka")).toEqual(["docs/install.md"]);
    expect(await searchPaths(p, alice, id, "wombat")).toEqual(["docs/config.md"]);
    expect(await searchPaths(p, alice, id, "bilby")).toEqual(["docs/from-sitemap.md"]);
    expect(await searchPaths(p, alice, id, "dingo")).toEqual(["docs/new.md"]);
    expect(await searchPaths(p, alice, id, "platypus")).toEqual([]);
    expect(await searchPaths(p, alice, id, "echidna")).toEqual([]);
    // The page text is clean Markdown: navigation and footer dropped.
    const doc = await p.call(alice, "GET", `/api/data/sources/${id}/document?path=docs/install.md`);
    expect(JSON.stringify(doc.body)).not.toContain("Footer boilerplate");
    // robots.txt was obeyed: the disallowed page was never requested.
    expect(site.log.some((l) => l.path.startsWith("/docs/private"))).toBe(false);
    expect(site.log.some((l) => l.path === "/blog/post")).toBe(false);
    // The redirect to the metadata address was refused, and says so in the run.
    const run = await p.call(alice, "GET", `/api/data/sources/${id}/runs/${source.lastRun.id}`);
    const evil = run.body.items.find((i: { path: string }) => i.path === "docs/evil.md");
    expect(evil?.reason).toMatch(
      /169\.254\.169\.254, a linkLocal address: sources may only reach public addresses/,
    );

    // Second crawl: the ETag makes the unchanged page a 304; a changed page and a removed page are picked up.
    site.log.length = 0;
    site.pages.set("/docs/new", {
      body: html(
        "New page",
        "<p>The dingo guide was rewritten around the numbat workflow for every project.</p>",
      ),
    });
    site.pages.set("/sitemap.xml", {
      type: "application/xml",
      body: `<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"></urlset>`,
    });
    site.pages.delete("/docs/from-sitemap");
    source = await syncNow(p, alice, id);
    expect(site.log.find((l) => l.path === "/docs/install")).toMatchObject({
      status: 304,
      ifNoneMatch: '"install-v1"',
    });
    expect(await documentPaths(p, alice, id)).toEqual([
      "docs/config.md",
      "docs/index.md",
      "docs/install.md",
      "docs/new.md",
    ]);
    expect(await searchPaths(p, alice, id, "numbat")).toEqual(["docs/new.md"]);
    expect(await searchPaths(p, alice, id, "bilby")).toEqual([]);
    expect(source.lastRun.progress).toMatchObject({ deleted: 1, changed: 1 });
  }, 60_000);

  it("refuses a private address without the source's permission, and a redirect to a private address", async () => {
    const u = site.url;
    const plain = await p.call(alice, "POST", "/api/data/sources", {
      type: "web",
      name: "no permission",
      config: { url: `${u}/docs/` },
    });
    const refused = await settled(p, alice, plain.body.source.id);
    expect(refused.status).toBe("error");
    expect(refused.statusMessage).toMatch(
      /127\.0\.0\.1, a loopback address: sources may only reach public addresses/,
    );

    // Allowed for 127.0.0.1, but the start page redirects to 127.0.0.2, which the admin did not allow.
    site.pages.set("/hop", { location: `${u.replace("127.0.0.1", "127.0.0.2")}/docs/` });
    const hop = await p.call(alice, "POST", "/api/data/sources", {
      type: "web",
      name: "redirect",
      config: { url: `${u}/hop`, allowPrivateNetwork: true },
    });
    const hopped = await settled(p, alice, hop.body.source.id);
    expect(hopped.status).toBe("error");
    expect(hopped.statusMessage).toMatch(/127\.0\.0\.2, a loopback address/);
  }, 60_000);

  it("indexes uploaded PDF, DOCX, HTML and Markdown files, and refuses other types", async () => {
    const created = await p.call(alice, "POST", "/api/data/sources", {
      type: "upload",
      name: "uploads",
      config: {},
    });
    expect(created.status).toBe(201);
    const id = created.body.source.id;
    const form = new FormData();
    form.append(
      "file",
      new Blob([new Uint8Array(pdf("The capybara budget for 2027 is approved."))]),
      "budget.pdf",
    );
    form.append(
      "file",
      new Blob([new Uint8Array(docx("Meeting notes about the axolotl roadmap."))]),
      "notes.docx",
    );
    form.append(
      "file",
      new Blob([
        html("Page", "<p>An exported page about the tapir onboarding checklist for new engineers.</p>"),
      ]),
      "page.html",
    );
    form.append("file", new Blob(["# Readme\n\nThe narwhal service handles billing.\n"]), "readme.md");
    form.append("folder", "team");
    const res = await fetch(`${p.base}/api/data/sources/${id}/files`, {
      method: "POST",
      headers: { authorization: `Bearer ${alice.key}` },
      body: form,
    });
    expect(res.status, await res.clone().text()).toBe(202);
    const source = await settled(p, alice, id);
    expect(source.status, source.statusMessage).toBe("idle");
    expect(await documentPaths(p, alice, id)).toEqual([
      "team/budget.pdf",
      "team/notes.docx",
      "team/page.html",
      "team/readme.md",
    ]);
    expect(await searchPaths(p, alice, id, "capybara")).toEqual(["team/budget.pdf"]);
    expect(await searchPaths(p, alice, id, "axolotl")).toEqual(["team/notes.docx"]);
    expect(await searchPaths(p, alice, id, "tapir")).toEqual(["team/page.html"]);
    expect(await searchPaths(p, alice, id, "narwhal")).toEqual(["team/readme.md"]);

    const bad = new FormData();
    bad.append("file", new Blob([new Uint8Array([1, 2, 3])]), "tool.exe");
    const refused = await fetch(`${p.base}/api/data/sources/${id}/files`, {
      method: "POST",
      headers: { authorization: `Bearer ${alice.key}` },
      body: bad,
    });
    expect(refused.status).toBe(422);
    expect(await refused.text()).toContain("tool.exe: not a supported type");

    // Deleting a file removes it from the index.
    const del = await p.call(alice, "DELETE", `/api/data/sources/${id}/files?path=team/readme.md`);
    expect(del.status).toBe(204);
    await settled(p, alice, id);
    for (let i = 0; i < 50 && (await documentPaths(p, alice, id)).includes("team/readme.md"); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await searchPaths(p, alice, id, "narwhal")).toEqual([]);
  }, 60_000);

  it("accepts uploads above the global body limit up to DATA_UPLOAD_MAX_BYTES, and refuses larger ones with 413", async () => {
    const created = await p.call(alice, "POST", "/api/data/sources", {
      type: "upload",
      name: "big uploads",
      config: {},
    });
    const id = created.body.source.id;
    const upload = (name: string, content: Buffer) => {
      const form = new FormData();
      form.append("file", new Blob([new Uint8Array(content)]), name);
      return fetch(`${p.base}/api/data/sources/${id}/files`, {
        method: "POST",
        headers: { authorization: `Bearer ${alice.key}` },
        body: form,
      });
    };
    // 2 MiB: over HTTP_BODY_LIMIT_BYTES (1 MiB), under DATA_UPLOAD_MAX_BYTES (3 MiB).
    const big = pdf("The pangolin migration plan, appendix with large scans.", 2 * 1024 * 1024);
    expect(big.length).toBeGreaterThan(2 * 1024 * 1024);
    const accepted = await upload("scans.pdf", big);
    expect(accepted.status, await accepted.clone().text()).toBe(202);
    expect((await accepted.json()).files).toEqual([{ path: "scans.pdf", size: big.length }]);
    const source = await settled(p, alice, id);
    expect(source.status, source.statusMessage).toBe("idle");
    expect(await searchPaths(p, alice, id, "pangolin")).toEqual(["scans.pdf"]);

    // A file just past the limit: the body fits the route's limit (it allows for the form's framing),
    // the route refuses the files.
    const edge = await upload("edge.md", Buffer.alloc(UPLOAD_LIMIT + 1, "a"));
    expect(edge.status).toBe(413);
    expect(edge.headers.get("content-type")).toContain("application/problem+json");
    const edgeProblem = await edge.json();
    expect(edgeProblem.detail).toContain(`limit of ${UPLOAD_LIMIT} bytes`);
    expect(edgeProblem.detail).toContain("DATA_UPLOAD_MAX_BYTES");
    // A body well past it is refused from its Content-Length, before it is read. The server answers
    // and closes while the client may still be sending, which fetch reports as a failure: node:http
    // keeps the answer.
    const huge = await rawUpload(
      `${p.base}/api/data/sources/${id}/files`,
      alice.key,
      "huge.pdf",
      UPLOAD_LIMIT + 200 * 1024,
    );
    expect(huge.status).toBe(413);
    expect(huge.contentType).toContain("application/problem+json");
    expect(JSON.parse(huge.body).detail).toContain(`limit of ${UPLOAD_LIMIT} bytes`);
    const listed = await p.call(alice, "GET", `/api/data/sources/${id}/files`);
    expect(listed.body.files.map((f: { path: string }) => f.path)).toEqual(["scans.pdf"]);
  }, 60_000);
});
