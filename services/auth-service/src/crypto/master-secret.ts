import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { randomSecret } from "./hashing.js";

/** `<data dir>/auth/keys`: the auth service's key files, readable by the owner only. */
export function keysDir(dataDir: string): string {
  return join(dataDir, "auth", "keys");
}

async function ensureKeysDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
}

/**
 * Reads `<dir>/<name>`, or creates it with `create()` (mode 0600) when it
 * does not exist. `wx` makes a concurrent creator lose cleanly; it then reads
 * the winner's file.
 */
export async function readOrCreateKeyFile(dir: string, name: string, create: () => string): Promise<string> {
  await ensureKeysDir(dir);
  const file = join(dir, name);
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  try {
    await writeFile(file, create(), { mode: 0o600, flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  return readFile(file, "utf8");
}

/**
 * The master secret the secret box derives its key from: JWT_SECRET when set
 * (required in production); otherwise a random one kept in
 * `<data dir>/auth/keys/master.secret` (0600), so development needs no setup.
 */
export async function loadMasterSecret(jwtSecret: string | undefined, dataDir: string): Promise<string> {
  if (jwtSecret) return jwtSecret;
  return (await readOrCreateKeyFile(keysDir(dataDir), "master.secret", () => `${randomSecret()}\n`)).trim();
}
