import { generateKeyPairSync } from "node:crypto";
import { statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { reachableAuthAdapters, signUp, startAuth } from "../testing/harness.js";

describe.each(reachableAuthAdapters())("signing keys on $name", (adapters) => {
  it("generates one key on first start and keeps it (file on SQLite, sealed row on PostgreSQL)", async () => {
    const h = await startAuth(adapters);
    const jwks = (await (await h.call("GET", "/api/auth/.well-known/jwks.json")).json()) as {
      keys: Array<{ kid: string }>;
    };
    expect(jwks.keys).toHaveLength(1);
    const keys = h.service.deps.keys;
    if (h.store.dialect === "sqlite") {
      expect(keys.source).toBe("file");
      const file = join(h.config.CONHUB_DATA_DIR, "auth", "keys", "signing-key.pem");
      expect(statSync(file).mode & 0o777).toBe(0o600);
    } else {
      expect(keys.source).toBe("database");
      const row = await h.service.deps.db.selectFrom("signing_keys").selectAll().executeTakeFirstOrThrow();
      expect(row.private_key_sealed).not.toContain("PRIVATE KEY");
      expect(row.kid).toBe(keys.kid);
    }
  });

  it("uses AUTH_SIGNING_KEY when given, and tokens verify with its JWKS", async () => {
    const pem = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const h = await startAuth(adapters, { AUTH_SIGNING_KEY: pem.replaceAll("\n", "\\n") });
    expect(h.service.deps.keys.source).toBe("config");
    const s = await signUp(h, "k@example.com");
    const verified = await h.call("POST", "/api/auth/verify", { token: s.accessToken });
    expect(verified.status).toBe(200);
    expect(await verified.json()).toMatchObject({
      valid: true,
      kind: "jwt",
      userId: s.user.id,
      role: "owner",
    });
  });
});
