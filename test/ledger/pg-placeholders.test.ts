/** The `?` placeholders of the queries' SQL as PostgreSQL reads them. Hostile SQL first. */
import { describe, expect, it } from 'vitest';
import { postgresPlaceholders } from '../../src/ledger/postgres/pg-reader.js';

describe('postgresPlaceholders', () => {
  it('refuses a ? it cannot tell from a placeholder rather than guess', () => {
    expect(() => postgresPlaceholders("SELECT 1 WHERE x = 'what?'", [])).toThrow(/inside a quoted string/);
    expect(() => postgresPlaceholders('SELECT "odd?" FROM t WHERE x = ?', ['a'])).toThrow(/inside a quoted/);
    expect(() => postgresPlaceholders('SELECT 1 -- why?\n WHERE x = ?', ['a'])).toThrow(/a comment/);
    expect(() => postgresPlaceholders('SELECT 1 WHERE x = $1', ['a'])).toThrow(/"\$" outside quotes/);
    expect(() => postgresPlaceholders("SELECT 'open", [])).toThrow(/unterminated quote/);
  });

  it('refuses a count of parameters that is not the count of placeholders', () => {
    expect(() => postgresPlaceholders('SELECT ? , ?', ['a'])).toThrow(
      'the query has 2 placeholders and 1 parameters',
    );
    expect(() => postgresPlaceholders('SELECT 1', ['a'])).toThrow(
      'the query has 0 placeholders and 1 parameters',
    );
  });

  it('numbers the placeholders, keeps quoted text, and binds numbers as bigint', () => {
    expect(
      postgresPlaceholders("SELECT 'it''s' AS t FROM d WHERE r = ? AND n = ? LIMIT ?", ['o?', 2 ** 40, 3]),
    ).toBe("SELECT 'it''s' AS t FROM d WHERE r = $1 AND n = $2::bigint LIMIT $3::bigint");
    expect(postgresPlaceholders('SELECT ?::text, ?', [5, null])).toBe('SELECT $1::text, $2');
  });
});
