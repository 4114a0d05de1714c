import { describe, expect, it } from "vitest";
import { compileExclusions } from "./exclusions.js";
import { globToRegExp } from "./glob.js";

describe("globToRegExp", () => {
  it.each([
    ["*.pem", "certs/server.pem", true],
    ["*.pem", "server.pem.txt", false],
    ["src/*.ts", "src/a.ts", true],
    ["src/*.ts", "src/sub/a.ts", false],
    ["src/**/*.ts", "src/sub/deep/a.ts", true],
    ["src/**/*.ts", "src/a.ts", true],
    ["**/.git/**", "vendor/x/.git/HEAD", true],
    ["docs/", "docs/a/b.md", true],
    ["*.{key,p12}", "a/b.p12", true],
    ["file?.txt", "file1.txt", true],
    ["[abc].js", "b.js", true],
    ["[!abc].js", "b.js", false],
    ["/top.txt", "top.txt", true],
    ["/top.txt", "sub/top.txt", false],
  ])("%s matches %s: %s", (glob, path, expected) => {
    expect(globToRegExp(glob).test(path)).toBe(expected);
  });
});

describe("default exclusions", () => {
  const exclusions = compileExclusions();
  it.each([
    ".env",
    "services/api/.env.production",
    "config/prod.env",
    "certs/tls.pem",
    "keys/server.key",
    "home/.ssh/id_rsa",
    "id_ed25519.pub",
    ".git/config",
    "deploy/.aws/credentials",
    "gcp/service-account-prod.json",
    "infra/terraform.tfstate",
    ".npmrc",
  ])("excludes %s", (path) => {
    expect(exclusions.match(path)).toBeDefined();
  });

  it.each([".env.example", "docs/env.md", "src/keyboard.ts", "src/credentials.ts", "README.md"])(
    "keeps %s",
    (path) => {
      expect(exclusions.match(path)).toBeUndefined();
    },
  );

  it("uses custom lists, last match wins", () => {
    const custom = compileExclusions(["secrets/**", "!secrets/README.md"]);
    expect(custom.match("secrets/db.txt")).toBe("secrets/**");
    expect(custom.match("secrets/README.md")).toBeUndefined();
  });
});
