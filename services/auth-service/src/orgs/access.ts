import { type Role, roleRank } from "@conhub/middleware";
import { errors } from "@conhub/utils";
import type { Kysely } from "kysely";
import type { AuthDatabase } from "../db/schema.js";

/**
 * The caller's role in an organization, read from the database (not the
 * token, which may be up to 15 minutes old). Not a member: 404, so nobody
 * learns that an organization exists. Below `atLeast`: 403.
 */
export async function requireMembership(
  db: Kysely<AuthDatabase>,
  organizationId: string,
  userId: string,
  atLeast: Role = "member",
): Promise<Role> {
  const row = await db
    .selectFrom("memberships")
    .select("role")
    .where("organization_id", "=", organizationId)
    .where("user_id", "=", userId)
    .executeTakeFirst();
  if (!row) throw errors.notFound("Organization");
  if (roleRank[row.role] < roleRank[atLeast])
    throw errors.forbidden(`This needs the ${atLeast} role in the organization.`);
  return row.role;
}

export async function countOwners(db: Kysely<AuthDatabase>, organizationId: string): Promise<number> {
  const row = await db
    .selectFrom("memberships")
    .select((eb) => eb.fn.countAll<number | string>().as("n"))
    .where("organization_id", "=", organizationId)
    .where("role", "=", "owner")
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}
