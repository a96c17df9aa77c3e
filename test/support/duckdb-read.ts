import { DuckDBInstance } from '@duckdb/node-api';

/** What DuckDB, an independent reader, makes of a Parquet file: its columns with their types, and its row count. */
export async function duckdbShapeOf(file: string): Promise<{ columns: [string, string][]; rows: number }> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const described = await connection.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${file}')`);
    const counted = await connection.runAndReadAll(`SELECT count(*) FROM read_parquet('${file}')`);
    return { columns: described.getRowsJS().map((r) => [r[0] as string, r[1] as string]), rows: Number(counted.getRowsJS()[0]![0]) };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
