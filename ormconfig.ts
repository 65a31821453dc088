import "reflect-metadata";

import { loadConfig } from "./src/config";
import { createDataSource } from "./src/db/data-source";

/**
 * The DataSource the TypeORM CLI uses (`npm run migration:run`,
 * `npm run migration:generate -- migrations/Name`), built from the same
 * settings as the server: DATABASE_URL for MySQL, else the SQLite file.
 */
export const dataSource = createDataSource(loadConfig().database, { logSql: false });
