import { apiKeyScopes, jsonBody, pathParams, roleRank } from "@conhub/middleware";
import { errors } from "@conhub/utils";
import { Hono } from "hono";
import { z } from "zod";
import type { AuthDeps, AuthEnvVars } from "../deps.js";
import { addMs } from "../deps.js";
import { clientInfo } from "../http/client-info.js";
import { smallBody } from "../http/limits.js";
import { requireSession } from "../http/session-auth.js";
import { requireMembership } from "../orgs/access.js";
import { newApiKey, publicApiKey } from "./api-keys.js";

const CreateApiKeyBody = z.strictObject({
  name: z.string().trim().min(1, "must not be empty").max(100, "must be at most 100 characters"),
  scopes: z
    .array(z.enum(apiKeyScopes, `must be one of ${apiKeyScopes.join(", ")}`))
    .min(1, "needs at least one scope")
    .max(apiKeyScopes.length),
  /** Days until the key expires; omitted: it never expires. */
  expiresInDays: z.number().int("must be a whole number").min(1).max(3650).optional(),
});
const KeyParams = z.strictObject({ id: z.string().regex(/^[0-9a-f]{12}$/, "must be an API key id") });

/** API keys of the caller's current organization. */
export function apiKeyRoutes(deps: AuthDeps): Hono<AuthEnvVars> {
  const app = new Hono<AuthEnvVars>();
  app.use("/api-keys", requireSession(deps));
  app.use("/api-keys/*", requireSession(deps));

  app.get("/api-keys", async (c) => {
    const { userId, organizationId } = c.get("session");
    const role = await requireMembership(deps.db, organizationId, userId);
    // Admins see every key of the organization; members their own.
    let query = deps.db
      .selectFrom("api_keys")
      .selectAll()
      .where("organization_id", "=", organizationId)
      .where("revoked_at", "is", null);
    if (roleRank[role] < roleRank.admin) query = query.where("user_id", "=", userId);
    const rows = await query.orderBy("created_at", "desc").execute();
    return c.json({ apiKeys: rows.map(publicApiKey) });
  });

  app.post("/api-keys", smallBody, jsonBody(CreateApiKeyBody), async (c) => {
    const { userId, organizationId } = c.get("session");
    const body = c.req.valid("json");
    const role = await requireMembership(deps.db, organizationId, userId);
    if (body.scopes.includes("admin") && roleRank[role] < roleRank.admin) {
      throw errors.forbidden("Only an admin or owner can create a key with the admin scope.");
    }
    const now = deps.now();
    const key = newApiKey();
    const row = {
      id: key.id,
      organization_id: organizationId,
      user_id: userId,
      name: body.name,
      secret_hash: key.secretHash,
      scopes: JSON.stringify([...new Set(body.scopes)]),
      created_at: now.toISOString(),
      expires_at: body.expiresInDays ? addMs(now, body.expiresInDays * 86_400_000).toISOString() : null,
      last_used_at: null,
      revoked_at: null,
    };
    await deps.db.insertInto("api_keys").values(row).execute();
    await deps.audit.record({
      type: "api_key.created",
      userId,
      organizationId,
      client: clientInfo(c),
      data: { keyId: key.id, name: body.name, scopes: body.scopes },
    });
    // The only time the secret is shown.
    return c.json({ apiKey: publicApiKey(row), key: key.key }, 201);
  });

  app.delete("/api-keys/:id", pathParams(KeyParams), async (c) => {
    const { userId, organizationId } = c.get("session");
    const { id } = c.req.valid("param");
    const role = await requireMembership(deps.db, organizationId, userId);
    const row = await deps.db
      .selectFrom("api_keys")
      .selectAll()
      .where("id", "=", id)
      .where("organization_id", "=", organizationId)
      .where("revoked_at", "is", null)
      .executeTakeFirst();
    // Another organization's key, or (for a member) another user's: not found.
    if (!row || (row.user_id !== userId && roleRank[role] < roleRank.admin)) throw errors.notFound("API key");
    await deps.db
      .updateTable("api_keys")
      .set({ revoked_at: deps.now().toISOString() })
      .where("id", "=", id)
      .execute();
    await deps.audit.record({
      type: "api_key.revoked",
      userId,
      organizationId,
      client: clientInfo(c),
      data: { keyId: id },
    });
    return c.body(null, 204);
  });

  return app;
}
