import { randomUUID } from "node:crypto";
import type { Kysely, Selectable } from "kysely";
import type { AuthDatabase, OrganizationsTable, UsersTable } from "../db/schema.js";

export type UserRow = Selectable<UsersTable>;
export type OrganizationRow = Selectable<OrganizationsTable>;

/** Emails are compared trimmed and lower-cased. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export interface PublicUser {
  id: string;
  email: string;
  name: string | null;
  emailVerified: boolean;
  createdAt: string;
}

export function publicUser(row: UserRow): PublicUser {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    emailVerified: row.email_verified_at !== null,
    createdAt: row.created_at,
  };
}

export async function findUserByEmail(db: Kysely<AuthDatabase>, email: string): Promise<UserRow | undefined> {
  return db.selectFrom("users").selectAll().where("email", "=", normalizeEmail(email)).executeTakeFirst();
}

export async function findUserById(db: Kysely<AuthDatabase>, id: string): Promise<UserRow | undefined> {
  return db.selectFrom("users").selectAll().where("id", "=", id).executeTakeFirst();
}

export interface NewUser {
  email: string;
  name?: string | null;
  /** argon2id hash, or null for a provider-only account. */
  passwordHash: string | null;
  /** Set when the address is already proven (e.g. a provider's verified email). */
  emailVerified: boolean;
}

export class EmailTakenError extends Error {
  override name = "EmailTakenError";
}

/**
 * Creates a user and their personal organization (they are its owner), in one
 * transaction. Throws `EmailTakenError` when the address is registered.
 */
export async function createUserWithPersonalOrg(
  db: Kysely<AuthDatabase>,
  input: NewUser,
  now: Date,
): Promise<{ user: UserRow; organization: OrganizationRow }> {
  const at = now.toISOString();
  const email = normalizeEmail(input.email);
  const user: UserRow = {
    id: randomUUID(),
    email,
    name: input.name ?? null,
    password_hash: input.passwordHash,
    email_verified_at: input.emailVerified ? at : null,
    failed_logins: 0,
    locked_until: null,
    created_at: at,
    updated_at: at,
  };
  const organization: OrganizationRow = {
    id: randomUUID(),
    name: `${input.name?.trim() || email.split("@")[0]}'s workspace`.slice(0, 100),
    personal: 1,
    created_at: at,
    updated_at: at,
  };
  try {
    await db.transaction().execute(async (trx) => {
      await trx.insertInto("users").values(user).execute();
      await trx.insertInto("organizations").values(organization).execute();
      await trx
        .insertInto("memberships")
        .values({ organization_id: organization.id, user_id: user.id, role: "owner", created_at: at })
        .execute();
    });
  } catch (err) {
    if (await findUserByEmail(db, email)) throw new EmailTakenError(email, { cause: err });
    throw err;
  }
  return { user, organization };
}

/** Finds the user with this (verified) email, or creates one with a personal organization. For provider logins. */
export async function findOrCreateUserByVerifiedEmail(
  db: Kysely<AuthDatabase>,
  email: string,
  name: string | null,
  now: Date,
): Promise<{ user: UserRow; created: boolean }> {
  const existing = await findUserByEmail(db, email);
  if (existing) return { user: existing, created: false };
  try {
    const { user } = await createUserWithPersonalOrg(
      db,
      { email, name, passwordHash: null, emailVerified: true },
      now,
    );
    return { user, created: true };
  } catch (err) {
    if (!(err instanceof EmailTakenError)) throw err;
    return { user: (await findUserByEmail(db, email))!, created: false };
  }
}
