import { execFileSync } from "node:child_process";
import path from "node:path";

const ROOT = path.join(__dirname, "..");

/** The commit a bench run measured: HEAD's short id, with "+changes" when src/, migrations/ or package.json differ from it. */
export function gitCommit(): string {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no", "--", "src", "migrations", "package.json"], { cwd: ROOT, encoding: "utf8" }).trim();
    return dirty ? `${head}+changes` : head;
  } catch {
    return "unknown";
  }
}
