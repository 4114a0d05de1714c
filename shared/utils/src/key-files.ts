import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * Reads `<dir>/<name>`, or creates it with `create()` (mode 0600, in a
 * directory of mode 0700) when it does not exist. `wx` makes a concurrent
 * creator lose cleanly; it then reads the winner's file, waiting briefly
 * for its content to be there.
 */
export async function readOrCreateKeyFile(dir: string, name: string, create: () => string): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const file = join(dir, name);
  try {
    await writeFile(file, create(), { mode: 0o600, flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  for (let i = 0; i < 50; i++) {
    const content = await readFile(file, "utf8");
    if (content.trim()) return content;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${file} is empty: delete it and start again`);
}

/**
 * A service's master secret: JWT_SECRET when set (required in production and
 * with PostgreSQL); otherwise, in development, a random one kept in
 * `<data dir>/<area>/keys/<name>` (0600), so nothing needs setting up.
 */
export async function masterSecretOrDevFile(
  jwtSecret: string | undefined,
  dataDir: string,
  area: string,
  name = "master.secret",
): Promise<string> {
  if (jwtSecret) return jwtSecret;
  const content = await readOrCreateKeyFile(
    join(dataDir, area, "keys"),
    name,
    () => `${randomBytes(32).toString("base64url")}\n`,
  );
  return content.trim();
}
