import { describe, expect, it } from "vitest";
import {
  type AuthHarness,
  latestMail,
  reachableAuthAdapters,
  signIn,
  signUp,
  startAuth,
  tokenIn,
} from "../testing/harness.js";

async function json<T>(res: Response | Promise<Response>): Promise<T> {
  return (await (await res).json()) as T;
}

/** Alice owns team B-org and invites Bob as a member; Mallory has her own organization. */
async function twoOrganizations(h: AuthHarness) {
  const alice = await signUp(h, "alice@example.com");
  const bob = await signUp(h, "bob@example.com");
  const mallory = await signUp(h, "mallory@example.com");
  const team = await json<{ organization: { id: string } }>(
    h.call("POST", "/api/auth/orgs", { token: alice.accessToken, body: { name: "Team" } }),
  );
  const teamId = team.organization.id;
  const invite = await h.call("POST", `/api/auth/orgs/${teamId}/invitations`, {
    token: alice.accessToken,
    body: { email: "bob@example.com", role: "member" },
  });
  expect(invite.status).toBe(201);
  const token = tokenIn((await latestMail(h, "bob@example.com", "invitation")).body);
  const accepted = await h.call("POST", "/api/auth/orgs/invitations/accept", {
    token: bob.accessToken,
    body: { token },
  });
  expect(accepted.status, await accepted.clone().text()).toBe(200);
  expect(await accepted.json()).toMatchObject({ organization: { id: teamId, role: "member" } });
  return { alice, bob, mallory, teamId };
}

describe.each(reachableAuthAdapters())("organizations on $name", (adapters) => {
  it("creates, lists, renames, switches; invitations are single use", async () => {
    const h = await startAuth(adapters);
    const { alice, bob, teamId } = await twoOrganizations(h);
    const mine = await json<{ organizations: Array<{ id: string; role: string; personal: boolean }> }>(
      h.call("GET", "/api/auth/orgs", { token: bob.accessToken }),
    );
    expect(mine.organizations.map((o) => [o.personal, o.role])).toEqual([
      [true, "owner"],
      [false, "member"],
    ]);
    const renamed = await h.call("PATCH", `/api/auth/orgs/${teamId}`, {
      token: alice.accessToken,
      body: { name: "Core" },
    });
    expect(renamed.status).toBe(200);
    expect(await renamed.json()).toMatchObject({ organization: { name: "Core" } });

    // Switch: a new access token for the other organization; refresh keeps it.
    const switched = await json<{ accessToken: string; organization: { id: string; role: string } }>(
      h.call("POST", `/api/auth/orgs/${teamId}/switch`, { token: bob.accessToken }),
    );
    expect(switched.organization).toMatchObject({ id: teamId, role: "member" });
    expect(await json(h.call("GET", "/api/auth/me", { token: switched.accessToken }))).toMatchObject({
      organization: { id: teamId },
    });
    const refreshed = await json<{ organization: { id: string } }>(
      h.call("POST", "/api/auth/refresh", { body: { refreshToken: bob.refreshToken } }),
    );
    expect(refreshed.organization.id).toBe(teamId);

    // The invitation token was used up.
    const token = tokenIn((await latestMail(h, "bob@example.com", "invitation")).body);
    expect(
      (await h.call("POST", "/api/auth/orgs/invitations/accept", { token: bob.accessToken, body: { token } }))
        .status,
    ).toBe(400);

    // Revoked invitations cannot be accepted; invitations to another address are refused.
    const carol = await signUp(h, "carol@example.com");
    const inv = await json<{ invitation: { id: string } }>(
      h.call("POST", `/api/auth/orgs/${teamId}/invitations`, {
        token: alice.accessToken,
        body: { email: "carol@example.com" },
      }),
    );
    const carolToken = tokenIn((await latestMail(h, "carol@example.com", "invitation")).body);
    expect(
      (
        await h.call("POST", "/api/auth/orgs/invitations/accept", {
          token: bob.accessToken,
          body: { token: carolToken },
        })
      ).status,
    ).toBe(403);
    const pending = await json<{ invitations: Array<{ id: string }> }>(
      h.call("GET", `/api/auth/orgs/${teamId}/invitations`, { token: alice.accessToken }),
    );
    expect(pending.invitations.map((i) => i.id)).toEqual([inv.invitation.id]);
    expect(
      (
        await h.call("DELETE", `/api/auth/orgs/${teamId}/invitations/${inv.invitation.id}`, {
          token: alice.accessToken,
        })
      ).status,
    ).toBe(204);
    expect(
      (
        await h.call("POST", "/api/auth/orgs/invitations/accept", {
          token: carol.accessToken,
          body: { token: carolToken },
        })
      ).status,
    ).toBe(400);
  });

  it("roles: members cannot administer; admins cannot touch owners; the last owner stays", async () => {
    const h = await startAuth(adapters);
    const { alice, bob, teamId } = await twoOrganizations(h);
    const asBob = (method: string, path: string, body?: unknown) =>
      h.call(method, `/api/auth/orgs/${teamId}${path}`, { token: bob.accessToken, body });
    // A member: 403 on every admin action, but may read.
    expect((await asBob("GET", "/members")).status).toBe(200);
    expect((await asBob("GET", "")).status).toBe(200);
    for (const [method, path, body] of [
      ["PATCH", "", { name: "Mine now" }],
      ["GET", "/invitations", undefined],
      ["POST", "/invitations", { email: "x@example.com" }],
      ["PATCH", `/members/${alice.user.id}`, { role: "member" }],
      ["DELETE", `/members/${alice.user.id}`, undefined],
      ["GET", "/audit", undefined],
    ] as const) {
      const res = await asBob(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
    }
    // A member cannot mint an admin-scoped key in the team.
    const switched = await json<{ accessToken: string }>(
      h.call("POST", `/api/auth/orgs/${teamId}/switch`, { token: bob.accessToken }),
    );
    expect(
      (
        await h.call("POST", "/api/auth/api-keys", {
          token: switched.accessToken,
          body: { name: "x", scopes: ["admin"] },
        })
      ).status,
    ).toBe(403);

    // Promote Bob to admin: he may invite, but not demote or remove the owner.
    expect(
      (
        await h.call("PATCH", `/api/auth/orgs/${teamId}/members/${bob.user.id}`, {
          token: alice.accessToken,
          body: { role: "admin" },
        })
      ).status,
    ).toBe(200);
    expect((await asBob("POST", "/invitations", { email: "x@example.com" })).status).toBe(201);
    expect((await asBob("PATCH", `/members/${alice.user.id}`, { role: "member" })).status).toBe(403);
    expect((await asBob("DELETE", `/members/${alice.user.id}`)).status).toBe(403);
    expect((await asBob("PATCH", `/members/${bob.user.id}`, { role: "owner" })).status).toBe(403);
    // The last owner can be neither demoted nor removed.
    expect(
      (
        await h.call("PATCH", `/api/auth/orgs/${teamId}/members/${alice.user.id}`, {
          token: alice.accessToken,
          body: { role: "admin" },
        })
      ).status,
    ).toBe(409);
    expect(
      (
        await h.call("DELETE", `/api/auth/orgs/${teamId}/members/${alice.user.id}`, {
          token: alice.accessToken,
        })
      ).status,
    ).toBe(409);
    // The owner removes Bob; his next refresh falls back to his personal organization.
    expect(
      (
        await h.call("DELETE", `/api/auth/orgs/${teamId}/members/${bob.user.id}`, {
          token: alice.accessToken,
        })
      ).status,
    ).toBe(204);
    expect((await asBob("GET", "")).status).toBe(404);

    const audit = await json<{ events: Array<{ type: string }> }>(
      h.call("GET", `/api/auth/orgs/${teamId}/audit`, { token: alice.accessToken }),
    );
    expect(audit.events.map((e) => e.type)).toEqual(
      expect.arrayContaining([
        "invitation.created",
        "invitation.accepted",
        "member.role_changed",
        "member.removed",
      ]),
    );
  });

  it("isolation: every organization endpoint answers 404 to a non-member", async () => {
    const h = await startAuth(adapters);
    const { alice, mallory, teamId, bob } = await twoOrganizations(h);
    const inv = await json<{ invitation: { id: string } }>(
      h.call("POST", `/api/auth/orgs/${teamId}/invitations`, {
        token: alice.accessToken,
        body: { email: "y@example.com" },
      }),
    );
    const aliceKey = await json<{ apiKey: { id: string } }>(
      h.call("POST", "/api/auth/api-keys", {
        token: alice.accessToken,
        body: { name: "a", scopes: ["search:read"] },
      }),
    );
    const aliceSessions = await json<{ sessions: Array<{ id: string }> }>(
      h.call("GET", "/api/auth/sessions", { token: alice.accessToken }),
    );
    const probes: Array<[string, string, unknown?]> = [
      ["GET", `/api/auth/orgs/${teamId}`],
      ["PATCH", `/api/auth/orgs/${teamId}`, { name: "pwned" }],
      ["POST", `/api/auth/orgs/${teamId}/switch`],
      ["GET", `/api/auth/orgs/${teamId}/members`],
      ["PATCH", `/api/auth/orgs/${teamId}/members/${bob.user.id}`, { role: "admin" }],
      ["DELETE", `/api/auth/orgs/${teamId}/members/${bob.user.id}`],
      ["GET", `/api/auth/orgs/${teamId}/invitations`],
      ["POST", `/api/auth/orgs/${teamId}/invitations`, { email: "m@example.com" }],
      ["DELETE", `/api/auth/orgs/${teamId}/invitations/${inv.invitation.id}`],
      ["GET", `/api/auth/orgs/${teamId}/audit`],
      ["GET", `/api/auth/orgs/${alice.organization.id}`],
      ["DELETE", `/api/auth/api-keys/${aliceKey.apiKey.id}`],
      ["DELETE", `/api/auth/sessions/${aliceSessions.sessions[0]!.id}`],
    ];
    for (const [method, path, body] of probes) {
      const res = await h.call(method, path, { token: mallory.accessToken, body });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
    }
    // Nothing leaked into lists either.
    const keys = await json<{ apiKeys: unknown[] }>(
      h.call("GET", "/api/auth/api-keys", { token: mallory.accessToken }),
    );
    expect(keys.apiKeys).toEqual([]);
    const orgs = await json<{ organizations: Array<{ id: string }> }>(
      h.call("GET", "/api/auth/orgs", { token: mallory.accessToken }),
    );
    expect(orgs.organizations.map((o) => o.id)).toEqual([mallory.organization.id]);
    // And nothing changed.
    expect(await json(h.call("GET", `/api/auth/orgs/${teamId}`, { token: alice.accessToken }))).toMatchObject(
      {
        organization: { name: "Team" },
      },
    );
    expect((await signIn(h, "bob@example.com")).user.id).toBe(bob.user.id);
  });
});
