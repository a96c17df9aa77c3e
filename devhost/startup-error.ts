/**
 * A reason devhost cannot start that its message explains in full (a bad setting, a port in use,
 * local data it cannot read, and what to do about it): `npm start` prints the message alone. Any
 * other error is printed with its stack, as a bug in devhost or the app.
 */
export class StartupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StartupError';
  }
}

/** Errors of the app or devhost whose message is meant for the user (named, so a copy of a class loaded twice still counts). */
const EXPLAINED = new Set(['StartupError', 'ConfigError', 'BrokerConfigError', 'UnsupportedBindingsError']);

/** What `npm start` prints for an error that stopped the start. */
export function describeStartFailure(err: unknown): string {
  if (err instanceof StartupError || (err instanceof Error && EXPLAINED.has(err.name))) return err.message;
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

