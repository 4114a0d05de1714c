import { pathParams } from "@conhub/middleware";
import { errors } from "@conhub/utils";
import { Hono } from "hono";
import { z } from "zod";
import type { AuthDeps, AuthEnvVars } from "../deps.js";
import { clientInfo } from "../http/client-info.js";
import { requireSession } from "../http/session-auth.js";
import { revokeSession, revokeUserSessions } from "./sessions.js";

const SessionParams = z.strictObject({ id: z.uuid("must be a session id") });

/** The signed-in user's sessions: list them, end one, or end all others. */
export function sessionRoutes(deps: AuthDeps): Hono<AuthEnvVars> {
  const app = new Hono<AuthEnvVars>();
  app.use("/sessions", requireSession(deps));
  app.use("/sessions/*", requireSession(deps));

  app.get("/sessions", async (c) => {
    const { userId, sessionId } = c.get("session");
    const now = deps.now().toISOString();
    const rows = await deps.db
      .selectFrom("sessions")
      .selectAll()
      .where("user_id", "=", userId)
      .where("revoked_at", "is", null)
      .where("expires_at", ">", now)
      .orderBy("last_used_at", "desc")
      .execute();
    return c.json({
      sessions: rows.map((r) => ({
        id: r.id,
        organizationId: r.organization_id,
        ip: r.ip,
        userAgent: r.user_agent,
        createdAt: r.created_at,
        lastUsedAt: r.last_used_at,
        expiresAt: r.expires_at,
        current: r.id === sessionId,
      })),
    });
  });

  app.delete("/sessions", async (c) => {
    const { userId, sessionId } = c.get("session");
    const revoked = await revokeUserSessions(deps.db, userId, "revoked_by_user", deps.now(), sessionId);
    if (revoked > 0) {
      await deps.audit.record({
        type: "session.revoked",
        userId,
        client: clientInfo(c),
        data: { count: revoked },
      });
    }
    return c.json({ revoked });
  });

  app.delete("/sessions/:id", pathParams(SessionParams), async (c) => {
    const { userId } = c.get("session");
    const { id } = c.req.valid("param");
    const row = await deps.db
      .selectFrom("sessions")
      .select(["id"])
      .where("id", "=", id)
      .where("user_id", "=", userId)
      .where("revoked_at", "is", null)
      .executeTakeFirst();
    if (!row) throw errors.notFound("Session");
    await revokeSession(deps.db, id, "revoked_by_user", deps.now());
    await deps.audit.record({
      type: "session.revoked",
      userId,
      client: clientInfo(c),
      data: { sessionId: id },
    });
    return c.body(null, 204);
  });

  return app;
}
