import { dropDatabase } from "./mariadb";
import { RESULTS_FILE } from "./results";

/** Drops the run's database (whatever the tests did) and says where the figures are. */
export default async function globalTeardown(): Promise<void> {
  const name = process.env.REL_DATABASE_NAME;
  if (name) await dropDatabase(name);
  process.stdout.write(`\n[reliability] database ${name ?? "(none)"} dropped; figures in ${RESULTS_FILE}\n`);
}
