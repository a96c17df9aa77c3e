import fs from 'node:fs';

/**
 * Peak resident set size of this process, in bytes. On Linux it is VmHWM from /proc/self/status:
 * `process.resourceUsage().maxRSS` is not usable for a spawned process there, because the kernel
 * carries the parent's RSS at fork into the child's maxrss across exec (a child of a process
 * holding 600 MB reports 600 MB before doing anything). Elsewhere maxRSS is the best there is.
 */
export function peakRssBytes(): number {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (hwm) return Number(hwm[1]) * 1024;
  } catch {
    // Not Linux: fall through.
  }
  return process.resourceUsage().maxRSS * 1024;
}
