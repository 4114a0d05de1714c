-- Runs once, when the conhub-postgres data volume is first initialised (the
-- image runs every file in /docker-entrypoint-initdb.d against POSTGRES_DB).
-- Each ConHub service creates its own schema and tables at start (or with
-- `conhub migrate`); these are the extensions their migrations rely on.
CREATE EXTENSION IF NOT EXISTS vector;   -- pgvector: embeddings, HNSW indexes
CREATE EXTENSION IF NOT EXISTS pg_trgm;  -- trigram indexes: substring and regex search

-- Databases created later from template1 (e.g. per-test databases) get them too.
\connect template1
CREATE EXTENSION IF NOT EXISTS vector;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
