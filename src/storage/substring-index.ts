import { sql, type SQL } from 'drizzle-orm';
import type { CompareOp } from '../scim/filter/index.js';
import type { ResourceTypeName } from '../scim/schemas/registry.js';
import { emailValues, resources } from './schema.js';

/**
 * `co`, `sw` and `ew` (RFC 7644 §3.4.2.2) compile to LIKE, which a B-tree cannot serve with a
 * leading wildcard. pg_trgm GIN indexes can (drizzle/0001_pg_trgm_email_values.sql,
 * drizzle/0002_substring_indexes.sql), so a substring filter costs about the same at any size.
 *
 * Columns: the exact predicate is already what the index covers. userName and displayName are
 * caseExact=false, so filter-sql compares `lower(column) like lower(pattern)`, the expression of
 * resources_user_name_trgm and resources_display_name_trgm; externalId is caseExact and compares
 * the bare column, indexed as is by resources_external_id_trgm.
 *
 * Multi-valued attributes: the exact predicate is `exists (select … from jsonb_array_elements(…)
 * where … lower(e.v ->> 'value') like …)`, which no index can serve. An index covers one text per
 * resource instead: every element's lower-cased value, each between newlines (`\na@x\nb@y\n`).
 * The compiler ANDs a condition on that text (`prefilter`) to the exact predicate, which stays as
 * it was. The prefilter is implied by the exact predicate (whenever some element matches, the
 * text matches), so `exact and prefilter` selects exactly the rows `exact` does: the prefilter
 * only lets PostgreSQL find the candidates through the index, and the exact predicate decides.
 */

export type SubstringOp = 'co' | 'sw' | 'ew';

export const isSubstringOp = (op: CompareOp): op is SubstringOp => op === 'co' || op === 'sw' || op === 'ew';

/** `%`, `_` and `\` escaped, so LIKE (with `escape '\'`) matches them literally. */
export const escapeLike = (value: string): string => value.replace(/[\\%_]/g, '\\$&');

/** LIKE pattern for co/sw/ew on one value. */
export function likePattern(op: SubstringOp, value: string): string {
  const escaped = escapeLike(value);
  return op === 'sw' ? `${escaped}%` : op === 'ew' ? `%${escaped}` : `%${escaped}%`;
}

/** Separates (and surrounds) the values in an indexed values text; see scim_email_values. */
export const VALUES_SEPARATOR = '\n';

/** A trigram index over the values of one sub-attribute of every element of a multi-valued attribute. */
export interface ValuesIndex {
  /** Index name, as EXPLAIN shows it. */
  readonly name: string;
  /** Canonical name of the indexed sub-attribute. */
  readonly sub: string;
  /** The indexed text: SEP lower(v1) SEP lower(v2) … SEP, NULL when no element has a value. */
  readonly text: SQL;
}

export const EMAIL_VALUES_INDEX: ValuesIndex = { name: 'resources_email_values_trgm', sub: 'value', text: emailValues(resources.doc) };

/** The index over `attr`'s elements for `type`, if there is one (core attributes only, not extensions). */
export function valuesIndexOf(type: ResourceTypeName, attr: string, extension: boolean): ValuesIndex | undefined {
  return type === 'User' && !extension && attr === 'emails' ? EMAIL_VALUES_INDEX : undefined;
}

/**
 * The prefilter for "some element's lower(sub) is like lower(likePattern(op, value))", i.e. a
 * caseExact=false comparison (the indexed text is lower-cased per value, exactly as the exact
 * predicate lower-cases each value, so lower(v) is a substring of it). If lower(v) contains m,
 * the text contains m; if lower(v) starts with m, the text contains SEP m; if it ends with m,
 * m SEP. The pattern is lower-cased by PostgreSQL, as the exact one is: the literal is flanked by
 * `%` or SEP here and by `%` or the ends of the pattern there, neither of them cased, so lower()
 * folds it the same way in both.
 *
 * undefined when pg_trgm could draw no trigram from the pattern, so the index could not narrow
 * anything and the prefilter would only be one more test per row: a trigram needs 3 characters, a
 * word boundary pads a word with two spaces before it and one after, and `%` pads nothing. So
 * `co` needs 3 characters, `ew` 2 (`x` then SEP gives "?x "), `sw` 1 (SEP then `x` gives "  x").
 */
const MIN_CHARS: Record<SubstringOp, number> = { co: 3, ew: 2, sw: 1 };

export function valuesPrefilter(index: ValuesIndex, op: SubstringOp, value: string): SQL | undefined {
  if (Array.from(value).length < MIN_CHARS[op]) return undefined;
  const e = escapeLike(value);
  const pattern = op === 'co' ? `%${e}%` : op === 'sw' ? `%${VALUES_SEPARATOR}${e}%` : `%${e}${VALUES_SEPARATOR}%`;
  return sql`(${index.text} like lower(${pattern}::text) escape '\\')`;
}
