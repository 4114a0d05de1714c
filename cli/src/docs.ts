import { readFileSync, writeFileSync } from "node:fs";
import { renderEnvExample, renderVariablesTable } from "./config.js";

const root = new URL("../../", import.meta.url);
export const readmePath = new URL("README.md", root);
export const envExamplePath = new URL(".env.example", root);

const start = "<!-- env-table:start -->";
const end = "<!-- env-table:end -->";

/** The README with its configuration table replaced by the one generated from the schemas. */
export async function readmeWithTable(readme: string): Promise<string> {
  const from = readme.indexOf(start);
  const to = readme.indexOf(end);
  if (from < 0 || to < from) throw new Error(`README.md lacks the ${start} … ${end} markers`);
  return `${readme.slice(0, from + start.length)}\n${await renderVariablesTable()}\n${readme.slice(to)}`;
}

/** `npm run docs`: regenerates the README table and `.env.example`. */
export async function updateDocs(): Promise<void> {
  writeFileSync(readmePath, await readmeWithTable(readFileSync(readmePath, "utf8")));
  writeFileSync(envExamplePath, await renderEnvExample());
}
