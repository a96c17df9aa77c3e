import type { DriftEvaluation, DriftReport } from '../schemas/drift';

/** A monitoring window's drift as the monitor recorded it on the window document. */
export interface RecordedDrift {
  model: string;
  version: number;
  windowId: string;
  /** The whole window, every column. */
  overall: DriftReport;
  /** Per segment id (`region=north`), as stored. */
  segments: Record<string, DriftReport>;
  evaluation: DriftEvaluation;
}

/**
 * Operators' metrics of the drift monitor (OpenTelemetry on Azure): told once per window whose
 * drift was judged and recorded. Must not throw: metrics never fail the monitor.
 */
export interface DriftMetrics {
  windowRecorded(drift: RecordedDrift): void;
}
