interface Stoppable {
  stop(): Promise<void>;
}

export default async function globalTeardown(): Promise<void> {
  const services = ((globalThis as Record<string, unknown>).__localServices ?? []) as Stoppable[];
  await Promise.all(services.map((s) => s.stop()));
}
