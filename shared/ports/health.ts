/** One dependency the app needs, checked by `GET /health`. */
export interface DependencyProbe {
  readonly name: string;
  /** Resolves when the dependency answers; rejects with the reason otherwise. */
  check(): Promise<void>;
}
