import fs from "node:fs";

/** VmRSS and VmHWM (the peak resident set so far) of a process, in MB, from /proc/<pid>/status; null when it is gone. */
export function readMemory(pid: number): { rssMb: number; hwmMb: number } | null {
  let status: string;
  try {
    status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return null;
  }
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  const rss = kb("VmRSS");
  const hwm = kb("VmHWM");
  if (!Number.isFinite(rss)) return null;
  return { rssMb: rss / 1024, hwmMb: hwm / 1024 };
}

/** Samples a process's memory at an interval while a test runs; `stop` returns the figures. */
export class RssSampler {
  private timer: NodeJS.Timeout | null = null;
  private readonly t0 = performance.now();
  readonly samples: Array<{ s: number; rssMb: number }> = [];
  maxRssMb = 0;
  hwmMb = 0;
  lastRssMb = 0;

  constructor(private readonly pid: number, private readonly intervalMs = 100) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  sample(): void {
    const m = readMemory(this.pid);
    if (!m) return;
    this.lastRssMb = m.rssMb;
    this.maxRssMb = Math.max(this.maxRssMb, m.rssMb);
    this.hwmMb = Math.max(this.hwmMb, m.hwmMb);
    const s = (performance.now() - this.t0) / 1000;
    // At most one kept sample every 0.5 s (the maximum above sees every one).
    if (this.samples.length === 0 || s - this.samples[this.samples.length - 1].s >= 0.5) this.samples.push({ s: round(s, 1), rssMb: round(m.rssMb, 1) });
  }

  stop(): { peakRssMb: number; vmHwmMb: number; lastRssMb: number } {
    this.sample();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    return { peakRssMb: round(this.maxRssMb, 1), vmHwmMb: round(this.hwmMb, 1), lastRssMb: round(this.lastRssMb, 1) };
  }
}

export function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
