/**
 * `node dist/devhost/servicebus/main.js [--port N] [--config file] [--data dir]`: runs the broker
 * on its own (tests start it as a child process to kill it with SIGKILL). Prints one JSON line
 * with the port and connection string once it listens.
 */
import { startServiceBusBroker } from './broker';

function argument(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const port = argument('port');
  const broker = await startServiceBusBroker({
    port: port ? Number(port) : undefined,
    configPath: argument('config'),
    dataDir: argument('data'),
  });
  process.stdout.write(
    `${JSON.stringify({ port: broker.port, connectionString: broker.connectionString })}\n`,
  );
  const stop = (): void => {
    void broker.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
