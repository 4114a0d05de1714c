import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join, normalize } from "node:path";

/**
 * A local stand-in for the Hugging Face Hub's file API, as transformers.js
 * uses it: `GET /<org>/<model>/resolve/<revision>/<path>` answers the file
 * `<root>/<org>/<model>/<path>` (200, or 206 for a `Range: bytes=a-b`
 * request), 404 when it does not exist. `intercept` lets a test answer a
 * request itself (an outage, a stall).
 */
export interface HubRequest {
  path: string;
  range: string | undefined;
}

export interface HubServer {
  /** Base URL with a trailing slash, like `https://huggingface.co/`. */
  url: string;
  requests: HubRequest[];
  /** Return true when it answered the request. */
  intercept: ((request: HubRequest, res: ServerResponse) => boolean) | undefined;
  /** Requests of whole files (not one-byte probes) for a path suffix. */
  downloads(suffix: string): number;
  close(): Promise<void>;
}

export async function serveHub(root: string): Promise<HubServer> {
  const held: ServerResponse[] = [];
  const hub: HubServer = {
    url: "",
    requests: [],
    intercept: undefined,
    downloads: (suffix) =>
      hub.requests.filter((r) => r.path.endsWith(suffix) && r.range === undefined).length,
    close: async () => {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://hub").pathname);
    const request: HubRequest = { path, range: req.headers.range };
    hub.requests.push(request);
    if (hub.intercept?.(request, res)) {
      if (!res.writableEnded) held.push(res);
      return;
    }
    const match = /^\/([^/]+\/[^/]+)\/resolve\/[^/]+\/(.+)$/.exec(path);
    const file = match ? normalize(join(root, match[1]!, match[2]!)) : undefined;
    if (!file?.startsWith(normalize(root))) return notFound(res);
    stat(file).then(
      (info) => {
        if (!info.isFile()) return notFound(res);
        const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
        if (range) {
          const start = Number(range[1]);
          const end = Math.min(range[2] ? Number(range[2]) : info.size - 1, info.size - 1);
          if (start > end) {
            res.writeHead(416, { "content-range": `bytes */${info.size}` });
            return res.end();
          }
          res.writeHead(206, {
            "content-length": end - start + 1,
            "content-range": `bytes ${start}-${end}/${info.size}`,
          });
          return createReadStream(file, { start, end }).pipe(res);
        }
        res.writeHead(200, { "content-length": info.size, "content-type": "application/octet-stream" });
        createReadStream(file).pipe(res);
      },
      () => notFound(res),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  hub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return hub;
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { "content-type": "text/plain" });
  res.end("Entry not found");
}
