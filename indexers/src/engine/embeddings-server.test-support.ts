import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";

/**
 * A local server speaking the OpenAI embeddings API (`POST /v1/embeddings`,
 * `{model, input:[...]}` → `{data:[{index, embedding}]}`), as Ollama, vLLM
 * or TEI do. Its "model" hashes words (identifier parts included) into a
 * fixed number of dimensions: texts sharing words point the same way, which
 * is enough for tests to check that vectors are made, stored and searched.
 */
export interface EmbeddingsServer {
  url: string;
  /** Texts embedded so far. */
  embedded(): number;
  /** Answer every request with this HTTP status (e.g. 503) until called with undefined. */
  fail(status: number | undefined): void;
  close(): Promise<void>;
}

const DIMS = 64;

function words(text: string): string[] {
  return (text.match(/[A-Za-z]+|\d+/g) ?? []).flatMap((w) =>
    (w.match(/[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+/g) ?? [w]).map((p) => p.toLowerCase()),
  );
}

export function hashedVector(text: string): number[] {
  const v = new Array<number>(DIMS).fill(0);
  for (const w of words(text)) {
    const h = createHash("sha256").update(w).digest();
    v[h[0]! % DIMS]! += h[1]! & 1 ? 1 : -1;
  }
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}

export async function startEmbeddingsServer(): Promise<EmbeddingsServer> {
  let count = 0;
  let failing: number | undefined;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (failing !== undefined) {
        res.writeHead(failing, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: "the model server is down" } }));
        return;
      }
      if (req.method !== "POST" || req.url !== "/v1/embeddings") {
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: "not found" } }));
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { input: string[]; model: string };
      count += body.input.length;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          object: "list",
          model: body.model,
          data: body.input.map((text, index) => ({
            object: "embedding",
            index,
            embedding: hashedVector(text),
          })),
          usage: { prompt_tokens: 0, total_tokens: 0 },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/v1`,
    embedded: () => count,
    fail: (status) => {
      failing = status;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
