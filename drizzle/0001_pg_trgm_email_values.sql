-- Custom SQL migration (drizzle-kit generate --custom): what drizzle-kit cannot express, needed by
-- the trigram indexes of 0002_substring_indexes.sql (src/storage/substring-index.ts explains them).
--
-- pg_trgm is a contrib module shipped with PostgreSQL (and with the embedded server) and a trusted
-- extension since PostgreSQL 13: a role with CREATE on the database can install it without being
-- superuser. A server without the contrib modules fails here, and the whole migration rolls back.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
--> statement-breakpoint
-- The lower-cased `value` of every element of a User's `emails`, each between newlines
-- ('\nbjensen@example.com\nbabs@jensen.org\n'), or NULL when there is none. The filter compiler
-- ANDs `scim_email_values(doc) like …` to the exact emails predicate (which sits in an EXISTS
-- over jsonb_array_elements no index can serve), so this is the text the GIN index must cover.
-- It reads exactly what that predicate reads (doc -> 'emails' only when it is an array,
-- lower(element ->> 'value')), so any match of the predicate is a match of this text.
-- IMMUTABLE: a pure function of its argument (pg_catalog functions only), as an index needs.
CREATE OR REPLACE FUNCTION scim_email_values(doc jsonb) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
  SELECT E'\n' || string_agg(lower(e.v ->> 'value'), E'\n') || E'\n'
  FROM jsonb_array_elements(CASE WHEN jsonb_typeof(doc -> 'emails') = 'array' THEN doc -> 'emails' END) AS e(v)
$$;
