import { describe, expect, it } from "vitest";
import { createSecretBox, SecretBoxError } from "./secret-box.js";

describe("secret box", () => {
  it("seals with the current key, opens with any key of the ring, and refuses tampering or another context", () => {
    const old = createSecretBox(["old master secret, at least 32 chars"]);
    const sealed = old.seal("provider refresh token", "connection:1");
    expect(sealed.startsWith(`v1.${old.keyId}.`)).toBe(true);
    expect(sealed).not.toContain("provider");
    expect(old.open(sealed, "connection:1")).toBe("provider refresh token");

    const rotated = createSecretBox([
      "new master secret, at least 32 chars",
      "old master secret, at least 32 chars",
    ]);
    expect(rotated.keyId).not.toBe(old.keyId);
    expect(rotated.open(sealed, "connection:1")).toBe("provider refresh token");
    expect(rotated.seal("x").split(".")[1]).toBe(rotated.keyId);

    expect(() => old.open(sealed, "connection:2")).toThrow(SecretBoxError);
    const parts = sealed.split(".");
    parts[4] = Buffer.from("forged").toString("base64url");
    expect(() => old.open(parts.join("."))).toThrow(SecretBoxError);
    expect(() => createSecretBox(["another secret entirely, 32 chars"]).open(sealed, "connection:1")).toThrow(
      /not configured/,
    );
  });
});
