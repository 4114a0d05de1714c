import { describe, expect, it } from "vitest";
import { GRAMMARS, type Language } from "../languages.js";
import { parserFor } from "./parser.js";

/*
 * Its own file, so its own thread: the grammars are loaded here for the first time, all at once,
 * as a worker does when it is given several files of different languages together.
 */
describe("tree-sitter grammars", () => {
  it("load when many are asked for at once in one thread, and each parses its language", async () => {
    const languages = Object.keys(GRAMMARS) as Language[];
    expect(languages.length).toBeGreaterThanOrEqual(11);
    const settled = await Promise.allSettled(languages.map((language) => parserFor(language)!));
    const failed = settled.flatMap((s, i) =>
      s.status === "rejected" ? [`${languages[i]}: ${String(s.reason)}`] : [],
    );
    expect(failed).toEqual([]);
    for (const s of settled) {
      const tree = (s as PromiseFulfilledResult<Awaited<ReturnType<typeof parserFor>>>).value!.parse("x");
      expect(tree?.rootNode.type.length).toBeGreaterThan(0);
      tree?.delete();
    }
  });
});
