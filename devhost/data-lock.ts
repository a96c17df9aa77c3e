import fs from 'node:fs';
import path from 'node:path';

import { StartupError } from './startup-error';

/** The lock file in the data folder: the pid of the devhost that owns the folder. */
export const LOCK_FILE = 'devhost.pid';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Makes this process the one devhost using `dataDir` (Azurite's files, the Cosmos snapshot and
 * journal, the task hub and the broker's store each take one writer). A lock left by a devhost
 * that was killed (its pid no longer runs) is taken over, and `onStale` says so. Returns the
 * release, which removes the file if it is still this process's.
 */
export function lockDataDir(dataDir: string, onStale: (message: string) => void = () => {}): () => void {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, LOCK_FILE);
  for (let attempt = 0; ; attempt += 1) {
    try {
      fs.writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
    }
    const text = fs.readFileSync(file, 'utf8').trim();
    const pid = Number(text);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
      throw new StartupError(
        `${dataDir} is in use by another devhost (pid ${pid}, from ${file}). Stop that one first (Ctrl-C in its terminal), ` +
          `or give this one a data folder of its own with --data DIR. If no devhost runs, delete ${file}.`,
      );
    }
    onStale(`${file}: the devhost that held it (pid ${text || '?'}) is gone (killed?); taking the data folder over`);
    fs.rmSync(file, { force: true });
  }
  return () => {
    try {
      if (fs.readFileSync(file, 'utf8').trim() === String(process.pid)) fs.rmSync(file, { force: true });
    } catch {
      // already gone
    }
  };
}
