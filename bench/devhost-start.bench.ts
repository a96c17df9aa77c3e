/**
 * `npm start` time to ready: spawns `node dist/devhost/start.js` (what `npm start` runs after the
 * build) on free ports and times it until it prints `devhost ready`, then times a SIGTERM stop.
 * Cold = empty data folder; warm = the same folder again (Azurite data, Cosmos snapshot, task hub).
 * Reference in the same run: Azurite alone (the slowest service) and a bare Node start.
 * Target: ready <= 5 s. Figures are printed, never asserted.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { startAzurite } from '../devhost/services/azurite';

const root = path.resolve(__dirname, '../..');
const startJs = path.join(root, 'dist/devhost/start.js');

function timeStart(dataDir: string): Promise<{ readyMs: number; stopMs: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [startJs, '--free-ports', '--port', '0', '--data', dataDir], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let readyMs: number | undefined;
    let stopAt = 0;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (readyMs === undefined && out.includes('devhost ready')) {
        readyMs = performance.now() - t0;
        stopAt = performance.now();
        child.kill('SIGTERM');
      }
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => {
      if (readyMs === undefined) reject(new Error(`devhost exited (${code}) before ready:\n${out}`));
      else resolve({ readyMs, stopMs: performance.now() - stopAt });
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function main(): Promise<void> {
  if (!fs.existsSync(startJs)) throw new Error(`${startJs} is missing: run npm run build`);
  const runs = 3;
  const cold: number[] = [];
  const warm: number[] = [];
  const stops: number[] = [];
  for (let i = 0; i < runs; i++) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'devhost-bench-'));
    try {
      const c = await timeStart(dir);
      const w = await timeStart(dir);
      cold.push(c.readyMs);
      warm.push(w.readyMs);
      stops.push(c.stopMs, w.stopMs);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  const azurite: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const a = await startAzurite();
    azurite.push(performance.now() - t0);
    await a.stop();
  }
  const bareNode: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    spawnSync(process.execPath, ['-e', '0']);
    bareNode.push(performance.now() - t0);
  }

  console.log(`npm start time to ready (median of ${runs}, target <= 5 s):`);
  console.log(`  cold (empty .local):  ${fmt(median(cold))}   runs: ${cold.map(fmt).join(', ')}`);
  console.log(`  warm (existing data): ${fmt(median(warm))}   runs: ${warm.map(fmt).join(', ')}`);
  console.log(`  stop on SIGTERM:      ${fmt(median(stops))}`);
  console.log(`reference: Azurite alone ${fmt(median(azurite))}, bare node ${fmt(median(bareNode))}`);
  console.log(`ratio cold ready / Azurite alone: ${(median(cold) / median(azurite)).toFixed(2)}x`);
  console.log(`target met: ${median(cold) <= 5000 && median(warm) <= 5000 ? 'yes' : 'NO'}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
