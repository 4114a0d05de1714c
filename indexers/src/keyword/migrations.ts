import { type Kysely, type Migration, sql } from "kysely";

/**
 * The keyword index's plain tables, the same on SQLite and PostgreSQL. The
 * dialect-specific index structures are not created here: the SQLite
 * adapter creates its FTS5 tables itself when it opens (`keyword/sqlite.ts`,
 * `ensureSqliteKeywordTables`), and the PostgreSQL keyword adapter, which is
 * the next one to write, will add its tsvector/pg_trgm columns and indexes
 * (and an identity default for the integer ids, which SQLite assigns by
 * itself as row ids) in its own migration. So `conhub migrate` works on both.
 */
export const keywordTablesMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("sources")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("root", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("updated_at", "text", (c) => c.notNull())
      .execute();
    await db.schema
      .createTable("documents")
      .addColumn("id", "integer", (c) => c.primaryKey())
      .addColumn("source_id", "text", (c) => c.notNull())
      .addColumn("path", "text", (c) => c.notNull())
      .addColumn("content_hash", "text", (c) => c.notNull())
      .addColumn("language", "text", (c) => c.notNull())
      .addColumn("media_type", "text", (c) => c.notNull())
      .addColumn("bytes", "integer", (c) => c.notNull())
      .addColumn("mtime_ms", "bigint")
      .addColumn("chunk_count", "integer", (c) => c.notNull())
      .addColumn("indexed_at", "text", (c) => c.notNull())
      .addUniqueConstraint("documents_source_path", ["source_id", "path"])
      .execute();
    await db.schema
      .createTable("chunks")
      .addColumn("id", "integer", (c) => c.primaryKey())
      .addColumn("document_id", "integer", (c) => c.notNull().references("documents.id").onDelete("cascade"))
      .addColumn("ordinal", "integer", (c) => c.notNull())
      .addColumn("start_line", "integer", (c) => c.notNull())
      .addColumn("end_line", "integer", (c) => c.notNull())
      .addColumn("start_byte", "integer", (c) => c.notNull())
      .addColumn("end_byte", "integer", (c) => c.notNull())
      .addColumn("kind", "text", (c) => c.notNull())
      .addColumn("symbol_path", "text", (c) => c.notNull())
      .addColumn("language", "text", (c) => c.notNull())
      .addColumn("token_estimate", "integer", (c) => c.notNull())
      .addColumn("text", "text", (c) => c.notNull())
      .execute();
    await db.schema.createIndex("chunks_document").on("chunks").columns(["document_id", "ordinal"]).execute();
    await db.schema
      .createTable("symbols")
      .addColumn("id", "integer", (c) => c.primaryKey())
      .addColumn("document_id", "integer", (c) => c.notNull().references("documents.id").onDelete("cascade"))
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("name_lower", "text", (c) => c.notNull())
      .addColumn("kind", "text", (c) => c.notNull())
      .addColumn("symbol_path", "text", (c) => c.notNull())
      .addColumn("start_line", "integer", (c) => c.notNull())
      .addColumn("end_line", "integer", (c) => c.notNull())
      .addColumn("container", "text")
      .execute();
    await db.schema.createIndex("symbols_name").on("symbols").column("name_lower").execute();
    await db.schema.createIndex("symbols_document").on("symbols").column("document_id").execute();
    await db.schema
      .createTable("redactions")
      .addColumn("document_id", "integer", (c) => c.notNull().references("documents.id").onDelete("cascade"))
      .addColumn("rule", "text", (c) => c.notNull())
      .addColumn("count", "integer", (c) => c.notNull())
      .addPrimaryKeyConstraint("redactions_pk", ["document_id", "rule"])
      .execute();
    await db.schema
      .createTable("skipped_files")
      .addColumn("source_id", "text", (c) => c.notNull())
      .addColumn("path", "text", (c) => c.notNull())
      .addColumn("reason", "text", (c) => c.notNull())
      .addColumn("detail", "text")
      .addColumn("bytes", "integer", (c) => c.notNull())
      .addColumn("mtime_ms", "bigint")
      .addColumn("recorded_at", "text", (c) => c.notNull())
      .addPrimaryKeyConstraint("skipped_files_pk", ["source_id", "path"])
      .execute();
  },
};

/**
 * Organizations and vectors: each source belongs to an organization (the
 * CLI's embedded index uses `local`); each chunk says whether its vector is
 * in the vector store (`embedded`, with a partial index so the embedding
 * worker finds the pending ones fast); `vector_tombstones` lists chunk ids
 * whose vectors must leave the vector store (filled by a trigger when an
 * embedded chunk is deleted, created by each adapter since triggers are
 * dialect-specific); `index_meta` holds the embedding model in use and the
 * chunk id counter (ids are never reused, so a vector can never be
 * mistaken for a newer chunk's).
 */
export const organizationsAndVectorsMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable("sources")
      .addColumn("org_id", "text", (c) => c.notNull().defaultTo(LOCAL_ORG_ID))
      .execute();
    await db.schema.createIndex("sources_org").on("sources").column("org_id").execute();
    await db.schema
      .alterTable("chunks")
      .addColumn("embedded", "integer", (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .createIndex("chunks_pending_embedding")
      .on("chunks")
      .column("id")
      .where(sql.ref("embedded"), "=", 0)
      .execute();
    await db.schema
      .createTable("vector_tombstones")
      .addColumn("chunk_id", "bigint", (c) => c.primaryKey())
      .execute();
    await db.schema
      .createTable("index_meta")
      .addColumn("key", "text", (c) => c.primaryKey())
      .addColumn("value", "text", (c) => c.notNull())
      .execute();
  },
};

/**
 * SQLite page size of the indexer's store, set when the file is created
 * (`openSqliteStore({ pageSize })`): chunk rows of a few KB waste much of a
 * 4 KB page in overflow pages; 16 KB pages measured 87 → 76 MB for kafka's
 * chunk table before compression. Existing files keep their page size.
 */
export const INDEXER_SQLITE_PAGE_SIZE = 16384;

/** The organization of sources indexed by the CLI on its own data dir. */
export const LOCAL_ORG_ID = "local";

/** The indexer's migrations, applied in name order on SQLite and PostgreSQL alike. */
export const indexerMigrations: Record<string, Migration> = {
  "0001_keyword_tables": keywordTablesMigration,
  "0002_organizations_and_vectors": organizationsAndVectorsMigration,
};
