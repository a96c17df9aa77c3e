/**
 * Long computations (a model fit on hundreds of thousands of rows) written as generators that
 * yield between steps of bounded size: run at once where nothing else waits, or with a pause
 * between steps so that a worker serving other invocations is not blocked for the whole fit.
 */
export type Steps<T> = Generator<void, T, void>;

/** Runs every step now, returning the result. */
export function runSteps<T>(steps: Steps<T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** Runs the steps, awaiting `pause` after each (say, a turn of the event loop). */
export async function runStepsPausing<T>(steps: Steps<T>, pause: () => Promise<void>): Promise<T> {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await pause();
  }
}
