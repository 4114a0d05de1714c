import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { renderEnvExample } from "./config.js";
import { envExamplePath, readmePath, readmeWithTable } from "./docs.js";

describe("generated documentation", () => {
  it(".env.example lists every variable of every target, as generated (run `npm run docs` to update)", async () => {
    expect(readFileSync(envExamplePath, "utf8")).toBe(await renderEnvExample());
  });

  it("the README's configuration table equals the schemas (run `npm run docs` to update)", async () => {
    const readme = readFileSync(readmePath, "utf8");
    expect(readme).toBe(await readmeWithTable(readme));
  });
});
