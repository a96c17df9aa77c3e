/**
 * A batch of rows stored column by column after validation against the model's feature schema.
 * This is the currency between readers (CSV, Parquet), row validation, transforms, profiles and
 * drift statistics: typed arrays keep a million rows in a few tens of megabytes.
 */
export interface RowBatch {
  readonly rowCount: number;
  /**
   * Numeric, boolean (0 or 1) and datetime (epoch milliseconds, UTC) columns. NaN marks a missing
   * value.
   */
  readonly numeric: Readonly<Record<string, Float64Array>>;
  /** Categorical columns. null marks a missing value. */
  readonly categorical: Readonly<Record<string, ReadonlyArray<string | null>>>;
}

/** The model input a transform produces: row-major float32, `width` values per row. */
export interface FeatureMatrix {
  readonly rows: number;
  readonly width: number;
  readonly values: Float32Array;
  /** Names of the `width` output features, in order. */
  readonly names: readonly string[];
}
