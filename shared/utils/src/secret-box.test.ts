import { describe, expect, it } from "vitest";
import { createSecretBox, SecretBoxError } from "./secret-box.js";

describe("secret box domains", () => {
  it("keeps services apart: a value sealed in one domain does not open in another with the same master secret", () => {
    const master = "a shared master secret of 32+ chars";
    const auth = createSecretBox([master]);
    const data = createSecretBox([master], {
      salt: "conhub-data",
      info: "conhub data secrets v1 aes-256-gcm",
    });
    expect(data.keyId).not.toBe(auth.keyId);
    const sealed = data.seal("git token", "source:1");
    expect(data.open(sealed, "source:1")).toBe("git token");
    expect(() => auth.open(sealed, "source:1")).toThrow(SecretBoxError);
    // The default domain is the auth service's, unchanged by the move to @conhub/utils.
    expect(auth.keyId).toBe(
      createSecretBox([master], { salt: "conhub-auth", info: "conhub secret box v1 aes-256-gcm" }).keyId,
    );
  });
});
