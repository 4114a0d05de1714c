import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  constantTimeEqual,
  verifyBitbucket,
  verifyDropbox,
  verifyGdrive,
  verifyGithub,
  verifyGitlab,
} from "./verify.js";

const secret = "0f3c9a6e1b2d4c5e8f7a9b0c1d2e3f405162738495a6b7c8d9e0f1a2b3c4d5e6";
const body = Buffer.from('{"ref":"refs/heads/main","commits":[]}', "utf8");
const hex = (key: string, data: Uint8Array) => createHmac("sha256", key).update(data).digest("hex");
const headers = (h: Record<string, string>) => new Headers(h);

describe("provider signatures", () => {
  // GitHub's documented example: secret "It's a Secret to Everybody", payload "Hello, World!".
  it("GitHub: matches the example in GitHub's documentation", () => {
    const ok = verifyGithub(
      headers({
        "x-hub-signature-256": "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
      }),
      Buffer.from("Hello, World!"),
      "It's a Secret to Everybody",
    );
    expect(ok).toEqual({ ok: true });
  });

  it("GitHub: valid, wrong, malformed, missing, and other bytes than signed", () => {
    const good = `sha256=${hex(secret, body)}`;
    expect(verifyGithub(headers({ "x-hub-signature-256": good }), body, secret)).toEqual({ ok: true });
    expect(
      verifyGithub(
        headers({ "x-hub-signature-256": good.toUpperCase().replace("SHA256=", "sha256=") }),
        body,
        secret,
      ).ok,
    ).toBe(true);
    expect(
      verifyGithub(headers({ "x-hub-signature-256": `sha256=${hex("other", body)}` }), body, secret),
    ).toMatchObject({ ok: false, reason: /does not match/ });
    expect(verifyGithub(headers({ "x-hub-signature-256": hex(secret, body) }), body, secret)).toMatchObject({
      ok: false,
      reason: /sha256=/,
    });
    expect(verifyGithub(headers({ "x-hub-signature-256": "sha256=abc" }), body, secret)).toMatchObject({
      ok: false,
      reason: /hex digest/,
    });
    expect(verifyGithub(headers({}), body, secret)).toMatchObject({
      ok: false,
      reason: /missing x-hub-signature-256/,
    });
    // The legacy SHA-1 header alone is not accepted.
    expect(
      verifyGithub(
        headers({ "x-hub-signature": `sha1=${createHmac("sha1", secret).update(body).digest("hex")}` }),
        body,
        secret,
      ).ok,
    ).toBe(false);
    const other = Buffer.concat([body, Buffer.from(" ")]);
    expect(verifyGithub(headers({ "x-hub-signature-256": good }), other, secret).ok).toBe(false);
  });

  it("GitLab: the token is the secret itself", () => {
    expect(verifyGitlab(headers({ "x-gitlab-token": secret }), body, secret)).toEqual({ ok: true });
    expect(verifyGitlab(headers({ "x-gitlab-token": `${secret}0` }), body, secret).ok).toBe(false);
    expect(verifyGitlab(headers({ "x-gitlab-token": secret.slice(1) }), body, secret).ok).toBe(false);
    expect(verifyGitlab(headers({}), body, secret)).toMatchObject({
      ok: false,
      reason: /missing x-gitlab-token/,
    });
  });

  it("Bitbucket Cloud: X-Hub-Signature sha256=<hmac hex>", () => {
    expect(
      verifyBitbucket(headers({ "x-hub-signature": `sha256=${hex(secret, body)}` }), body, secret),
    ).toEqual({ ok: true });
    expect(verifyBitbucket(headers({ "x-hub-signature": `sha256=${hex("x", body)}` }), body, secret).ok).toBe(
      false,
    );
    expect(
      verifyBitbucket(headers({ "x-hub-signature-256": `sha256=${hex(secret, body)}` }), body, secret).ok,
    ).toBe(false);
    expect(verifyBitbucket(headers({}), body, secret).ok).toBe(false);
  });

  it("Dropbox: X-Dropbox-Signature is the bare hmac hex", () => {
    expect(verifyDropbox(headers({ "x-dropbox-signature": hex(secret, body) }), body, secret)).toEqual({
      ok: true,
    });
    expect(
      verifyDropbox(headers({ "x-dropbox-signature": `sha256=${hex(secret, body)}` }), body, secret).ok,
    ).toBe(false);
    expect(verifyDropbox(headers({ "x-dropbox-signature": hex("app secret", body) }), body, secret).ok).toBe(
      false,
    );
    expect(verifyDropbox(headers({}), body, secret).ok).toBe(false);
  });

  it("Google Drive: X-Goog-Channel-Token equals the channel's token", () => {
    const empty = Buffer.alloc(0);
    expect(verifyGdrive(headers({ "x-goog-channel-token": secret }), empty, secret)).toEqual({ ok: true });
    expect(verifyGdrive(headers({ "x-goog-channel-token": "guess" }), empty, secret).ok).toBe(false);
    expect(verifyGdrive(headers({}), empty, secret)).toMatchObject({
      ok: false,
      reason: /x-goog-channel-token/,
    });
  });

  it("constant-time equality works for any lengths", () => {
    expect(constantTimeEqual("abc", "abc")).toBe(true);
    expect(constantTimeEqual("abc", "abd")).toBe(false);
    expect(constantTimeEqual("abc", "abcd")).toBe(false);
    expect(constantTimeEqual("", "")).toBe(true);
  });
});
