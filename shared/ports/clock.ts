/** The time source of use cases, so tests can control it and orchestrations can pass their own. */
export interface Clock {
  now(): Date;
}
