import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const root = path.join(__dirname, '..', '..');

/**
 * `npm start` (devhost/start.ts) as a new user meets it when something is wrong before the first
 * request: what it prints and that it exits. Each case gets an app folder of its own whose one
 * entry point loads the product's telemetry hook, so the product's settings are validated at start.
 */
describe('npm start with something wrong', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** An app folder: the product's appStart hook (which reads every setting), the given product functions and local.settings.json text. */
  function appWith(settings: string | undefined, functions: string[] = []): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'devhost-startup-'));
    dirs.push(dir);
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'startup-app', main: 'app.ts' }));
    fs.writeFileSync(path.join(dir, 'host.json'), JSON.stringify({ version: '2.0' }));
    const entries = ['functions/app-telemetry.ts', ...functions].map((f) => `require(${JSON.stringify(path.join(root, f))});\n`);
    fs.writeFileSync(path.join(dir, 'app.ts'), entries.join(''));
    if (settings !== undefined) fs.writeFileSync(path.join(dir, 'local.settings.json'), settings);
    return dir;
  }

  const sample = (): { Values: Record<string, string> } =>
    JSON.parse(fs.readFileSync(path.join(root, 'local.settings.sample.json'), 'utf8')) as { Values: Record<string, string> };

  /** Runs start.ts until it exits (or says it is ready: then it is stopped); its output and exit code. Any free host port unless `args` or (`portFromSettings`) the settings name one. */
  async function start(appDir: string, args: string[] = [], portFromSettings = false): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = spawn(
      process.execPath,
      ['-r', path.join(root, 'test/support/register-ts.js'), path.join(root, 'devhost/start.ts'), '--app', appDir, '--free-ports', ...(args.includes('--port') || portFromSettings ? [] : ['--port', '0']), ...args],
      // DEVHOST_PORT from the shell would win over the settings' port.
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SERVICEBUS_CONNECTION_STRING: '', ...(portFromSettings ? { DEVHOST_PORT: undefined } : {}) } },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (stdout.includes('devhost ready')) child.kill('SIGTERM');
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    return { code, stdout, stderr };
  }

  const stackLine = /^\s+at .+[(:]\d+/m;

  it('when a setting is out of range, then the start fails naming it and what is allowed, without a stack trace', async () => {
    const settings = sample();
    settings.Values.BATCH_MAX_PARALLEL_CHUNKS = '0';
    settings.Values.ACTUALS_LOOKBACK = '90 days';
    const { code, stdout, stderr } = await start(appWith(JSON.stringify(settings)));
    expect(code).toBe(1);
    expect(stdout).not.toContain('devhost ready');
    expect(stderr).toContain('[devhost] failed to start: Invalid configuration:');
    expect(stderr).toMatch(/expected number to be >=1\s+→ at BATCH_MAX_PARALLEL_CHUNKS/);
    expect(stderr).toMatch(/an ISO 8601 duration like P7D or PT6H\s+→ at ACTUALS_LOOKBACK/);
    expect(stderr).not.toMatch(stackLine);
  });

  it('when a timer schedule setting is not NCRONTAB, then the start fails naming the function, the setting and its value', async () => {
    const settings = sample();
    settings.Values.SCHEDULED_INFERENCE_CHECK = 'every minute';
    const { code, stderr } = await start(appWith(JSON.stringify(settings), ['functions/timer/scheduled-inference.ts']));
    expect(code).toBe(1);
    expect(stderr).toContain(
      `[devhost] failed to start: timer function 'scheduleInference': schedule "%SCHEDULED_INFERENCE_CHECK%" = "every minute": Schedule "every minute" must have six fields`,
    );
    expect(stderr).not.toMatch(stackLine);
  });

  it('when local.settings.json is not JSON, then the start fails naming the file, without a stack trace', async () => {
    const appDir = appWith('{ "Values": { "A": "1", } }');
    const { code, stderr } = await start(appDir);
    expect(code).toBe(1);
    expect(stderr).toContain(`[devhost] failed to start: ${path.join(appDir, 'local.settings.json')} is not valid JSON`);
    expect(stderr).not.toMatch(stackLine);
  });

  it('when the host port is taken, then the start fails naming the port, its use and how to move, without a stack trace', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const { code, stdout, stderr } = await start(appWith(JSON.stringify(sample())), ['--port', String(port)]);
      expect(code).toBe(1);
      expect(stdout).not.toContain('devhost ready');
      expect(stderr).toContain(`[devhost] failed to start: port already in use on 127.0.0.1: ${port} (the Functions host).`);
      expect(stderr).toContain('--port N (npm start -- --port N) or DEVHOST_PORT=N');
      expect(stderr).not.toMatch(stackLine);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('when local settings name the host port (DEVHOST_PORT, or Core Tools\' Host.LocalHttpPort), then the host is on that port, not 7071', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      for (const settings of [{ ...sample(), Values: { ...sample().Values, DEVHOST_PORT: String(port) } }, { ...sample(), Host: { LocalHttpPort: port } }]) {
        // The port is taken, so the start stops at once naming it: the port the settings gave.
        const { code, stderr } = await start(appWith(JSON.stringify(settings)), [], true);
        expect([code, stderr]).toEqual([1, expect.stringContaining(`[devhost] failed to start: port already in use on 127.0.0.1: ${port} (the Functions host).`)]);
      }
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('when a devhost runs on a data folder, then a second start there is refused naming the first, and the first still runs', async () => {
    const appDir = appWith(JSON.stringify(sample()));
    const first = spawn(
      process.execPath,
      ['-r', path.join(root, 'test/support/register-ts.js'), path.join(root, 'devhost/start.ts'), '--app', appDir, '--free-ports', '--port', '0'],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SERVICEBUS_CONNECTION_STRING: '' } },
    );
    const firstExit = new Promise<number | null>((resolve) => first.once('exit', resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        let out = '';
        first.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('devhost ready')) resolve();
        });
        void firstExit.then((code) => reject(new Error(`the first devhost exited with ${code}: ${out}`)));
      });
      const second = await start(appDir);
      expect(second.code).toBe(1);
      expect(second.stdout).not.toContain('devhost ready');
      expect(second.stderr).toContain(`[devhost] failed to start: ${path.join(appDir, '.local')} is in use by another devhost (pid ${first.pid}`);
      expect(second.stderr).not.toMatch(stackLine);
      expect(first.exitCode).toBeNull();
    } finally {
      first.kill('SIGTERM');
      expect(await firstExit).toBe(0);
    }
    // A clean stop leaves no lock behind.
    expect(fs.existsSync(path.join(appDir, '.local', 'devhost.pid'))).toBe(false);
  });

  it('when the last devhost on a data folder was killed, then its lock is taken over and the start goes on', async () => {
    const appDir = appWith(JSON.stringify(sample()));
    // The pid of a process that has exited: what a SIGKILLed devhost leaves in its lock.
    const gone = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => gone.once('exit', resolve));
    fs.mkdirSync(path.join(appDir, '.local'));
    fs.writeFileSync(path.join(appDir, '.local', 'devhost.pid'), `${gone.pid}\n`);
    const { code, stdout } = await start(appDir);
    expect(stdout).toContain(`devhost.pid: the devhost that held it (pid ${gone.pid}) is gone (killed?); taking the data folder over`);
    expect(stdout).toContain('devhost ready');
    expect(code).toBe(0);
  });

  it('when a setting name is misspelt, then it starts and says which setting was meant', async () => {
    const settings = sample();
    settings.Values.BATCH_MAX_PARALEL_CHUNKS = '4';
    const { code, stdout } = await start(appWith(JSON.stringify(settings)));
    expect(stdout).toContain('[devhost] local.settings.json: nothing reads the setting BATCH_MAX_PARALEL_CHUNKS; did you mean BATCH_MAX_PARALLEL_CHUNKS?');
    expect(stdout).toContain('devhost ready');
    expect(code).toBe(0);
  });

  it('when Ctrl-C comes before devhost is ready, then it exits at once and leaves no lock behind', async () => {
    const appDir = appWith(JSON.stringify(sample()));
    const lock = path.join(appDir, '.local', 'devhost.pid');
    const child = spawn(
      process.execPath,
      ['-r', path.join(root, 'test/support/register-ts.js'), path.join(root, 'devhost/start.ts'), '--app', appDir, '--free-ports', '--port', '0'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    // Signalled as soon as the lock is there (the start is then still far from ready).
    const deadline = Date.now() + 45_000;
    while (!fs.existsSync(lock) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(fs.existsSync(lock)).toBe(true);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stdout).not.toContain('devhost ready');
    expect(stdout).toContain('[devhost] SIGINT while starting: exiting');
    expect(fs.existsSync(lock)).toBe(false);
  });

  it('when the settings are right, then it starts (the cases above fail for their reason only)', async () => {
    const { code, stdout, stderr } = await start(appWith(JSON.stringify(sample()), ['functions/timer/scheduled-inference.ts']));
    expect(stdout).toContain('  scheduleInference: timer \'0 * * * * *\'');
    expect(stdout).not.toContain('nothing reads the setting');
    expect(stdout).toContain('devhost ready');
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});
