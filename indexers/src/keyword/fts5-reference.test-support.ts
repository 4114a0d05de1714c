import Database from "better-sqlite3";

/** The terms SQLite FTS5 stores for each text, through `tokenize`, in order. */
export function sqliteTerms(texts: readonly string[], tokenize: string): string[][] {
  const db = new Database(":memory:");
  try {
    db.exec(`create virtual table t using fts5(body, tokenize = '${tokenize}')`);
    db.exec("create virtual table v using fts5vocab(t, 'instance')");
    const insert = db.prepare("insert into t (rowid, body) values (?, ?)");
    db.transaction(() => {
      texts.forEach((text, i) => {
        insert.run(i + 1, text);
      });
    })();
    const out: string[][] = texts.map(() => []);
    for (const [term, doc, offset] of db.prepare("select term, doc, offset from v").raw().all() as [
      string,
      number,
      number,
    ][]) {
      out[doc - 1]![offset] = term;
    }
    return out;
  } finally {
    db.close();
  }
}
