import { constants } from "node:fs";
import { access, mkdir, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import type { ConfigProblem } from "@conhub/config";

/** Resolves true when `host:port` can be bound right now. */
export function portIsFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Every listener that would be taken, reported together. */
export async function checkPorts(
  listeners: Array<{ variable: string; port: number }>,
  host: string,
): Promise<ConfigProblem[]> {
  const results = await Promise.all(
    listeners.map(async (l) => ({ ...l, free: await portIsFree(l.port, host) })),
  );
  return results
    .filter((r) => !r.free)
    .map((r) => ({
      variable: r.variable,
      message: `port ${r.port} on ${host} is already in use (is ConHub already running? find the process with: lsof -i :${r.port})`,
    }));
}

/** The data directory exists (created if missing) and is writable. */
export async function checkDataDir(dataDir: string): Promise<ConfigProblem[]> {
  let timer: NodeJS.Timeout | undefined;
  try {
    // Some paths (e.g. under /proc) make a recursive mkdir spin forever: bound it.
    await Promise.race([
      mkdir(dataDir, { recursive: true }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("creating it did not finish within 5 s")), 5000);
        timer.unref();
      }),
    ]);
    await access(dataDir, constants.W_OK);
    const probe = join(dataDir, `.write-test-${process.pid}`);
    await writeFile(probe, "ok");
    await rm(probe);
    return [];
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return [{ variable: "CONHUB_DATA_DIR", message: `${dataDir} is not a writable directory: ${reason}` }];
  } finally {
    clearTimeout(timer);
  }
}
