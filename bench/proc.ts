/** CPU time from /proc (Linux), in clock ticks: a process's utime + stime, and the whole machine's busy time. */
import fs from "node:fs";

/** Milliseconds per clock tick: USER_HZ is 100 on every Linux this runs on. */
export const TICK_MS = 10;

/** utime + stime of `pid` (fields 14 and 15 of /proc/<pid>/stat); null when unreadable. */
export function processTicks(pid: number | null): number | null {
  if (pid === null) return null;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of the line)
  } catch {
    return null;
  }
}

/** The whole machine's busy ticks (user, nice, system, irq, softirq, steal) from /proc/stat; null when unreadable. */
export function machineBusyTicks(): number | null {
  try {
    const [user, nice, system, , , irq, softirq, steal] = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    return user + nice + system + irq + softirq + steal;
  } catch {
    return null;
  }
}
