import { randomUUID } from "node:crypto";
import { jsonBody, pathParams, queryParams, type Role, roleRank, roles } from "@conhub/middleware";
import { AppError, errors } from "@conhub/utils";
import { Hono } from "hono";
import { z } from "zod";
import { Email } from "../accounts/schemas.js";
import { findUserById } from "../accounts/users.js";
import { newOpaqueToken, opaqueSecretMatches, parseOpaqueToken } from "../crypto/opaque-token.js";
import type { AuthDeps, AuthEnvVars } from "../deps.js";
import { addMs } from "../deps.js";
import { clientInfo } from "../http/client-info.js";
import { smallBody } from "../http/limits.js";
import { requireSession } from "../http/session-auth.js";
import { mails } from "../mail/templates.js";
import { organizationForUser } from "../sessions/sessions.js";
import { countOwners, requireMembership } from "./access.js";

const OrgName = z.string().trim().min(1, "must not be empty").max(100, "must be at most 100 characters");
const OrgParams = z.strictObject({ id: z.uuid("must be an organization id") });
const MemberParams = z.strictObject({
  id: z.uuid("must be an organization id"),
  userId: z.uuid("must be a user id"),
});
const InvitationParams = z.strictObject({
  id: z.uuid("must be an organization id"),
  invitationId: z.string().regex(/^[0-9a-f]{24}$/, "must be an invitation id"),
});
const AuditQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  before: z.iso.datetime("must be an ISO 8601 time").optional(),
});

const invalidInvitation = () =>
  errors.invalid("The invitation is invalid, already used, revoked or expired.", [
    { field: "body.token", reason: "is invalid, already used, revoked or expired" },
  ]);

/** Organizations, members, roles, invitations and the audit log, under `/orgs`. */
export function organizationRoutes(deps: AuthDeps): Hono<AuthEnvVars> {
  const app = new Hono<AuthEnvVars>();
  const { db } = deps;
  app.use("/orgs", requireSession(deps));
  app.use("/orgs/*", requireSession(deps));

  app.get("/orgs", async (c) => {
    const { userId } = c.get("session");
    const rows = await db
      .selectFrom("memberships as m")
      .innerJoin("organizations as o", "o.id", "m.organization_id")
      .select(["o.id", "o.name", "o.personal", "o.created_at", "m.role"])
      .where("m.user_id", "=", userId)
      .orderBy("o.personal", "desc")
      .orderBy("o.created_at", "asc")
      .execute();
    return c.json({
      organizations: rows.map((r) => ({
        id: r.id,
        name: r.name,
        personal: r.personal === 1,
        role: r.role,
        createdAt: r.created_at,
      })),
    });
  });

  app.post("/orgs", smallBody, jsonBody(z.strictObject({ name: OrgName })), async (c) => {
    const { userId } = c.get("session");
    const { name } = c.req.valid("json");
    const at = deps.now().toISOString();
    const id = randomUUID();
    await db.transaction().execute(async (trx) => {
      await trx
        .insertInto("organizations")
        .values({ id, name, personal: 0, created_at: at, updated_at: at })
        .execute();
      await trx
        .insertInto("memberships")
        .values({ organization_id: id, user_id: userId, role: "owner", created_at: at })
        .execute();
      await deps.audit.record(
        { type: "organization.created", userId, organizationId: id, client: clientInfo(c) },
        trx,
      );
    });
    return c.json({ organization: { id, name, personal: false, role: "owner", createdAt: at } }, 201);
  });

  app.get("/orgs/:id", pathParams(OrgParams), async (c) => {
    const { id } = c.req.valid("param");
    const { userId } = c.get("session");
    await requireMembership(db, id, userId);
    const organization = await organizationForUser(db, userId, id);
    return c.json({ organization });
  });

  app.patch(
    "/orgs/:id",
    pathParams(OrgParams),
    smallBody,
    jsonBody(z.strictObject({ name: OrgName })),
    async (c) => {
      const { id } = c.req.valid("param");
      const { userId } = c.get("session");
      await requireMembership(db, id, userId, "admin");
      const { name } = c.req.valid("json");
      await db
        .updateTable("organizations")
        .set({ name, updated_at: deps.now().toISOString() })
        .where("id", "=", id)
        .execute();
      await deps.audit.record({
        type: "organization.renamed",
        userId,
        organizationId: id,
        client: clientInfo(c),
        data: { name },
      });
      return c.json({ organization: await organizationForUser(db, userId, id) });
    },
  );

  app.post("/orgs/:id/switch", pathParams(OrgParams), async (c) => {
    const { id } = c.req.valid("param");
    const { userId, sessionId } = c.get("session");
    await requireMembership(db, id, userId);
    const organization = (await organizationForUser(db, userId, id))!;
    await db.updateTable("sessions").set({ organization_id: id }).where("id", "=", sessionId).execute();
    const access = await deps.accessTokens.issue({
      userId,
      organizationId: id,
      role: organization.role,
      sessionId,
    });
    return c.json({
      accessToken: access.token,
      tokenType: "Bearer",
      expiresIn: access.expiresIn,
      organization,
    });
  });

  app.get("/orgs/:id/members", pathParams(OrgParams), async (c) => {
    const { id } = c.req.valid("param");
    await requireMembership(db, id, c.get("session").userId);
    const rows = await db
      .selectFrom("memberships as m")
      .innerJoin("users as u", "u.id", "m.user_id")
      .select(["u.id", "u.email", "u.name", "m.role", "m.created_at"])
      .where("m.organization_id", "=", id)
      .orderBy("m.created_at", "asc")
      .execute();
    return c.json({
      members: rows.map((r) => ({
        userId: r.id,
        email: r.email,
        name: r.name,
        role: r.role,
        joinedAt: r.created_at,
      })),
    });
  });

  app.patch(
    "/orgs/:id/members/:userId",
    pathParams(MemberParams),
    smallBody,
    jsonBody(z.strictObject({ role: z.enum(roles, `must be one of ${roles.join(", ")}`) })),
    async (c) => {
      const { id, userId: targetId } = c.req.valid("param");
      const { userId } = c.get("session");
      const { role } = c.req.valid("json");
      const myRole = await requireMembership(db, id, userId, "admin");
      const target = await db
        .selectFrom("memberships")
        .select("role")
        .where("organization_id", "=", id)
        .where("user_id", "=", targetId)
        .executeTakeFirst();
      if (!target) throw errors.notFound("Member");
      if ((role === "owner" || target.role === "owner") && myRole !== "owner") {
        throw errors.forbidden("Only an owner can grant or take away the owner role.");
      }
      if (target.role === "owner" && role !== "owner" && (await countOwners(db, id)) <= 1) {
        throw errors.conflict("An organization needs at least one owner; make someone else owner first.");
      }
      await db
        .updateTable("memberships")
        .set({ role })
        .where("organization_id", "=", id)
        .where("user_id", "=", targetId)
        .execute();
      await deps.audit.record({
        type: "member.role_changed",
        userId,
        organizationId: id,
        client: clientInfo(c),
        data: { memberId: targetId, from: target.role, to: role },
      });
      return c.json({ member: { userId: targetId, role } });
    },
  );

  app.delete("/orgs/:id/members/:userId", pathParams(MemberParams), async (c) => {
    const { id, userId: targetId } = c.req.valid("param");
    const { userId } = c.get("session");
    const leaving = targetId === userId;
    const myRole = await requireMembership(db, id, userId, leaving ? "member" : "admin");
    const target = await db
      .selectFrom("memberships")
      .select("role")
      .where("organization_id", "=", id)
      .where("user_id", "=", targetId)
      .executeTakeFirst();
    if (!target) throw errors.notFound("Member");
    if (!leaving && roleRank[target.role] > roleRank[myRole]) {
      throw errors.forbidden("Only an owner can remove an owner.");
    }
    if (target.role === "owner" && (await countOwners(db, id)) <= 1) {
      throw errors.conflict("The last owner cannot leave or be removed; make someone else owner first.");
    }
    await db
      .deleteFrom("memberships")
      .where("organization_id", "=", id)
      .where("user_id", "=", targetId)
      .execute();
    await deps.audit.record({
      type: "member.removed",
      userId,
      organizationId: id,
      client: clientInfo(c),
      data: { memberId: targetId, role: target.role },
    });
    return c.body(null, 204);
  });

  app.get("/orgs/:id/invitations", pathParams(OrgParams), async (c) => {
    const { id } = c.req.valid("param");
    await requireMembership(db, id, c.get("session").userId, "admin");
    const rows = await db
      .selectFrom("invitations")
      .selectAll()
      .where("organization_id", "=", id)
      .where("accepted_at", "is", null)
      .where("revoked_at", "is", null)
      .where("expires_at", ">", deps.now().toISOString())
      .orderBy("created_at", "desc")
      .execute();
    return c.json({
      invitations: rows.map((r) => ({
        id: r.id,
        email: r.email,
        role: r.role,
        invitedBy: r.invited_by,
        createdAt: r.created_at,
        expiresAt: r.expires_at,
      })),
    });
  });

  app.post(
    "/orgs/:id/invitations",
    pathParams(OrgParams),
    smallBody,
    jsonBody(
      z.strictObject({
        email: Email,
        role: z.enum(["admin", "member"], "must be admin or member").default("member"),
      }),
    ),
    async (c) => {
      const { id } = c.req.valid("param");
      const { userId } = c.get("session");
      await requireMembership(db, id, userId, "admin");
      const body = c.req.valid("json");
      const email = body.email.trim().toLowerCase();
      const now = deps.now();
      const token = newOpaqueToken();
      // The invitation's id is the public half of its token (`<id>.<secret>`).
      const invitationId = token.id;
      await db
        .insertInto("invitations")
        .values({
          id: invitationId,
          organization_id: id,
          email,
          role: body.role as Role,
          secret_hash: token.secretHash,
          invited_by: userId,
          created_at: now.toISOString(),
          expires_at: addMs(now, deps.settings.invitationTtlMs).toISOString(),
          accepted_at: null,
          accepted_by: null,
          revoked_at: null,
        })
        .execute();
      const organization = await db
        .selectFrom("organizations")
        .select("name")
        .where("id", "=", id)
        .executeTakeFirstOrThrow();
      const inviter = await findUserById(db, userId);
      await deps.mailer.send(
        mails.invitation(
          email,
          deps.settings.publicUrl,
          organization.name,
          inviter?.name ?? inviter?.email ?? "Someone",
          token.token,
        ),
      );
      await deps.audit.record({
        type: "invitation.created",
        userId,
        organizationId: id,
        client: clientInfo(c),
        data: { invitationId, email, role: body.role },
      });
      return c.json(
        {
          invitation: {
            id: invitationId,
            email,
            role: body.role,
            invitedBy: userId,
            createdAt: now.toISOString(),
            expiresAt: addMs(now, deps.settings.invitationTtlMs).toISOString(),
          },
        },
        201,
      );
    },
  );

  app.delete("/orgs/:id/invitations/:invitationId", pathParams(InvitationParams), async (c) => {
    const { id, invitationId } = c.req.valid("param");
    const { userId } = c.get("session");
    await requireMembership(db, id, userId, "admin");
    const result = await db
      .updateTable("invitations")
      .set({ revoked_at: deps.now().toISOString() })
      .where("id", "=", invitationId)
      .where("organization_id", "=", id)
      .where("accepted_at", "is", null)
      .where("revoked_at", "is", null)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) throw errors.notFound("Invitation");
    await deps.audit.record({
      type: "invitation.revoked",
      userId,
      organizationId: id,
      client: clientInfo(c),
      data: { invitationId },
    });
    return c.body(null, 204);
  });

  app.post(
    "/orgs/invitations/accept",
    smallBody,
    jsonBody(z.strictObject({ token: z.string().min(1, "is required").max(200, "is too long") })),
    async (c) => {
      const { userId } = c.get("session");
      const parsed = parseOpaqueToken(c.req.valid("json").token);
      if (!parsed) throw invalidInvitation();
      const invitation = await db
        .selectFrom("invitations")
        .selectAll()
        .where("id", "=", parsed.id)
        .executeTakeFirst();
      if (!invitation || !opaqueSecretMatches(parsed.secret, invitation.secret_hash))
        throw invalidInvitation();
      const now = deps.now();
      if (invitation.accepted_at || invitation.revoked_at || invitation.expires_at <= now.toISOString()) {
        throw invalidInvitation();
      }
      const user = await findUserById(db, userId);
      if (!user) throw errors.unauthorized("This session has ended; sign in again.");
      if (user.email !== invitation.email) {
        throw new AppError(
          "forbidden",
          "This invitation is for another email address; sign in with that address.",
        );
      }
      await db.transaction().execute(async (trx) => {
        const claimed = await trx
          .updateTable("invitations")
          .set({ accepted_at: now.toISOString(), accepted_by: userId })
          .where("id", "=", invitation.id)
          .where("accepted_at", "is", null)
          .where("revoked_at", "is", null)
          .executeTakeFirst();
        if (Number(claimed.numUpdatedRows) === 0) throw invalidInvitation();
        const existing = await trx
          .selectFrom("memberships")
          .select("role")
          .where("organization_id", "=", invitation.organization_id)
          .where("user_id", "=", userId)
          .executeTakeFirst();
        if (!existing) {
          await trx
            .insertInto("memberships")
            .values({
              organization_id: invitation.organization_id,
              user_id: userId,
              role: invitation.role,
              created_at: now.toISOString(),
            })
            .execute();
        }
        // The token reached this mailbox: the address is proven.
        if (user.email_verified_at === null) {
          await trx
            .updateTable("users")
            .set({ email_verified_at: now.toISOString() })
            .where("id", "=", userId)
            .execute();
        }
        await deps.audit.record(
          {
            type: "invitation.accepted",
            userId,
            organizationId: invitation.organization_id,
            client: clientInfo(c),
            data: { invitationId: invitation.id, role: invitation.role },
          },
          trx,
        );
      });
      return c.json({ organization: await organizationForUser(db, userId, invitation.organization_id) });
    },
  );

  app.get("/orgs/:id/audit", pathParams(OrgParams), queryParams(AuditQuery), async (c) => {
    const { id } = c.req.valid("param");
    await requireMembership(db, id, c.get("session").userId, "admin");
    const { limit, before } = c.req.valid("query");
    let query = db.selectFrom("audit_events").selectAll().where("organization_id", "=", id);
    if (before) query = query.where("created_at", "<", new Date(before).toISOString());
    const rows = await query.orderBy("created_at", "desc").limit(limit).execute();
    return c.json({
      events: rows.map((r) => ({
        id: r.id,
        type: r.type,
        userId: r.user_id,
        ip: r.ip,
        userAgent: r.user_agent,
        data: JSON.parse(r.data) as unknown,
        createdAt: r.created_at,
      })),
    });
  });

  return app;
}
