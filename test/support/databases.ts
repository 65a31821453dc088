import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { createConnection } from "mysql2/promise";
import type { DataSource } from "typeorm";

import type { DatabaseConfig } from "../../src/config";
import { createDataSource } from "../../src/db/data-source";

/** The databases the contract tests run on: the embedded default always, MySQL when MYSQL_URL is set. */
export type DbKind = "sqlite" | "mysql";

export const DB_KINDS: DbKind[] = process.env.MYSQL_URL ? ["sqlite", "mysql"] : ["sqlite"];

/** A database made for one test file, and how to throw it away. */
export interface ScratchDatabase {
  config: DatabaseConfig;
  drop(): Promise<void>;
}

/** A fresh, empty database of the given kind: a temp SQLite file, or a new MySQL database on MYSQL_URL's server. */
export async function createScratchDatabase(kind: DbKind): Promise<ScratchDatabase> {
  if (kind === "sqlite") {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mp-test-"));
    return {
      config: { type: "sqlite", path: path.join(dir, "test.sqlite") },
      drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  }
  const server = mysqlServerUrl();
  const name = `mp_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  await mysqlAdmin(server, `CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    config: { type: "mysql", url: url.toString(), poolSize: 5 },
    drop: () => mysqlAdmin(server, `DROP DATABASE IF EXISTS \`${name}\``),
  };
}

/** MYSQL_URL: a server URL (mysql://user:pass@host:port), without a database. */
export function mysqlServerUrl(): string {
  const raw = process.env.MYSQL_URL;
  if (!raw) throw new Error("MYSQL_URL is not set");
  const url = new URL(raw);
  url.pathname = "";
  return url.toString().replace(/\/$/, "");
}

async function mysqlAdmin(serverUrl: string, sql: string): Promise<void> {
  const connection = await createConnection({ uri: serverUrl, connectTimeout: 5000 });
  try {
    await connection.query(sql);
  } finally {
    await connection.end();
  }
}

/** A scratch database opened through the product's DataSource (not migrated yet). */
export async function openScratchDataSource(kind: DbKind): Promise<{ scratch: ScratchDatabase; db: DataSource }> {
  const scratch = await createScratchDatabase(kind);
  const db = await createDataSource(scratch.config);
  await db.initialize();
  return { scratch, db };
}
