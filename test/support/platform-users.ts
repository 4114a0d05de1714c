/**
 * Users and API calls for end-to-end tests, through the platform's own
 * HTTP APIs: sign up (register, sign in, create an API key) and JSON calls
 * with an API key.
 */
import { expect } from "vitest";

export interface SignedUpUser {
  /** An API key (chk_…) with the scopes asked for. */
  key: string;
  /** The signed-in user's access token (the organization's owner: every scope). */
  jwt: string;
  orgId: string;
}

const json = { "content-type": "application/json" };
export const testPassword = "correct horse battery staple";

/** Registers `email`, signs in and creates an API key with `scopes`. */
export async function signUpUser(
  authBase: string,
  email: string,
  scopes: readonly string[] = ["search:read", "sources:write"],
): Promise<SignedUpUser> {
  const reg = await fetch(`${authBase}/api/auth/register`, {
    method: "POST",
    headers: json,
    body: JSON.stringify({ email, password: testPassword }),
  });
  expect(reg.status).toBe(202);
  return apiKeyFor(authBase, email, scopes);
}

/** Signs in an existing `email` and creates another API key with `scopes`. */
export async function apiKeyFor(
  authBase: string,
  email: string,
  scopes: readonly string[],
): Promise<SignedUpUser> {
  const login = await fetch(`${authBase}/api/auth/login`, {
    method: "POST",
    headers: json,
    body: JSON.stringify({ email, password: testPassword }),
  });
  expect(login.status).toBe(200);
  const session = (await login.json()) as { accessToken: string; organization: { id: string } };
  const created = await fetch(`${authBase}/api/auth/api-keys`, {
    method: "POST",
    headers: { ...json, authorization: `Bearer ${session.accessToken}` },
    body: JSON.stringify({ name: "test", scopes }),
  });
  expect(created.status).toBe(201);
  const { key } = (await created.json()) as { key: string };
  return { key, jwt: session.accessToken, orgId: session.organization.id };
}

export interface JsonReply {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever the API answered.
  body: any;
  text: string;
  headers: Headers;
}

/** A JSON request with an optional Bearer credential; the body is parsed when it is JSON, kept as text otherwise. */
export async function callJson(
  url: string,
  method: string,
  credential?: { key: string },
  body?: unknown,
): Promise<JsonReply> {
  const res = await fetch(url, {
    method,
    headers: {
      ...(credential ? { authorization: `Bearer ${credential.key}` } : {}),
      ...(body === undefined ? {} : json),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed, text, headers: res.headers };
}
