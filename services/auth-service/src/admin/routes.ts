import { queryParams } from "@conhub/middleware";
import { errors } from "@conhub/utils";
import { Hono } from "hono";
import { z } from "zod";
import { findUserById } from "../accounts/users.js";
import type { AuthDeps, AuthEnvVars } from "../deps.js";
import { requireSession } from "../http/session-auth.js";

const OutboxQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  status: z.enum(["stored", "sending", "sent", "failed"]).optional(),
  to: z.string().trim().max(254).optional(),
});

/**
 * Platform administration. A platform admin is a user whose email is listed
 * in CONHUB_ADMIN_EMAILS; with SMTP configured their email must also be
 * verified. (Without SMTP nobody can verify an address except through this
 * very outbox, so there the operator's list is trusted as it is.)
 */
export function adminRoutes(deps: AuthDeps): Hono<AuthEnvVars> {
  const app = new Hono<AuthEnvVars>();
  app.use("/admin/*", requireSession(deps));
  app.use("/admin/*", async (c, next) => {
    const user = await findUserById(deps.db, c.get("session").userId);
    const listed = user !== undefined && deps.settings.adminEmails.includes(user.email);
    const verified = user?.email_verified_at != null || !deps.settings.smtpConfigured;
    // Not an admin: the admin API does not exist for them.
    if (!listed || !verified) throw errors.notFound("Route");
    await next();
  });

  app.get("/admin/outbox", queryParams(OutboxQuery), async (c) => {
    const { limit, status, to } = c.req.valid("query");
    let query = deps.db.selectFrom("mail_outbox").selectAll();
    if (status) query = query.where("status", "=", status);
    if (to) query = query.where("recipient", "=", to.toLowerCase());
    const rows = await query.orderBy("created_at", "desc").limit(limit).execute();
    return c.json({
      mails: rows.map((r) => ({
        id: r.id,
        to: r.recipient,
        subject: r.subject,
        body: r.body,
        purpose: r.purpose,
        status: r.status,
        error: r.error,
        createdAt: r.created_at,
        sentAt: r.sent_at,
      })),
    });
  });

  return app;
}
