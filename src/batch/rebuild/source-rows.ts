import type pg from 'pg';
import type { Row } from '../../decode/change-event.js';
import { quoteIdent } from '../../db/pg.js';

/**
 * The current rows of a source table, each value in the form the decoder gives the projections
 * (src/decode/change-event.ts): timestamps as ISO UTC strings with microseconds, numeric and
 * bigint as exact decimal strings, enums, uuids and json as text, smaller integers and floats as
 * numbers. So a row read here projects exactly like the change event that would carry it.
 */

type Queryable = Pick<pg.ClientBase, 'query'>;

export interface SourceColumn {
  name: string;
  /** information_schema.columns.data_type */
  dataType: string;
}

/** The SELECT expression of one column in decoder form. */
export function decoderFormExpr(c: SourceColumn): string {
  const col = quoteIdent(c.name);
  switch (c.dataType) {
    case 'timestamp with time zone':
      return `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ${col}`;
    case 'integer':
    case 'smallint':
    case 'double precision':
    case 'real':
    case 'boolean':
    case 'text':
      return col;
    default:
      // numeric, bigint, enums (USER-DEFINED), uuid, json(b), dates: exact text.
      return `${col}::text AS ${col}`;
  }
}

export function sourceRowsSql(table: string, columns: readonly SourceColumn[], orderBy: string): string {
  return `SELECT ${columns.map(decoderFormExpr).join(', ')} FROM public.${quoteIdent(table)} ORDER BY ${quoteIdent(orderBy)}`;
}

export async function sourceColumns(db: Queryable, table: string): Promise<SourceColumn[]> {
  const r = await db.query<{ name: string; data_type: string }>(
    `SELECT column_name AS name, data_type FROM information_schema.columns
      WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position`,
    [table],
  );
  if (r.rows.length === 0) throw new Error(`source table public.${table} not found`);
  return r.rows.map((x) => ({ name: x.name, dataType: x.data_type }));
}

/** Every current row of `table`, ordered by its key column. */
export async function readSourceRows(db: Queryable, table: string, keyColumn: string): Promise<Row[]> {
  const cols = await sourceColumns(db, table);
  return (await db.query<Row>(sourceRowsSql(table, cols, keyColumn))).rows;
}
