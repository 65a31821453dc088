import { dropDatabase } from "./mariadb";
import { readResults, RESULTS_FILE } from "./results";

type J = Record<string, any>;

/** One line per figure worth quoting (README "Operating it"), from whatever sections this run recorded. */
function summary(r: J): string[] {
  const lines: string[] = [];
  const h: J | undefined = r.hostile;
  if (h?.corpus) {
    lines.push(`hostile corpus: ${h.corpus.requests} requests, ${h.corpus.right} right, ${h.corpus.requests - h.corpus.right} wrong, ${h.corpus.crashes?.length ?? 0} server deaths; largest error answer ${h.corpus.largestErrorBodyBytes} B`);
  }
  if (h?.rss) lines.push(`hostile peak RSS (VmHWM): ${h.rss.vmHwmMb} MB${h.rss.deadProcesses?.length ? ` (processes that died: ${h.rss.deadProcesses.map((d: J) => `${d.vmHwmMb} MB`).join(", ")})` : ""}`);
  if (h?.distinctDocuments) {
    const d = h.distinctDocuments;
    lines.push(`distinct documents: ${d.searchDocuments} searches + ${d.paddedDocuments99Kb} x 99 KB + ${d.apqRegistrations} APQ + ${d.refused900Kb} x 900 KB in ${d.seconds} s; RSS ${d.checkpoints.map((c: J) => c.rssMb).join(" → ")} MB`);
  }
  if (h?.slowClients) {
    const s = h.slowClients;
    lines.push(`slow clients cut after: headers ${s.stalledHeadersClosedMs} ms, dribbled headers ${s.dribbledHeadersClosedMs} ms, body ${s.stalledBodyClosedMs} ms, dribbled body ${s.dribbledBodyClosedMs} ms; ${s.idleHalfRequestsClosed}/100 half requests closed`);
  }
  const l: J | undefined = r.load;
  if (l?.mixed) lines.push(`load ${l.mixed.connections} connections x ${l.mixed.seconds} s mixed: ${l.mixed.requestsPerSecond} req/s, p50 ${l.mixed.p50Ms} ms, p99 ${l.mixed.p99Ms} ms, ${l.mixed.non2xx} non-2xx, ${l.mixed.errors} errors, ${l.mixed.withGraphqlErrors} GraphQL errors; peak RSS ${l.rss?.vmHwmMb ?? "?"} MB`);
  if (l?.fairness) {
    const f = l.fairness;
    lines.push(`fairness: worst accepted "${f.worstAccepted.name}" (cost ${f.worstAccepted.cost ?? "?"}, ${f.worstAccepted.ms} ms, ${f.worstAccepted.bytes} B); cheap query p50/p99 idle ${f.cheapIdle.p50Ms}/${f.cheapIdle.p99Ms} ms, beside 4 of them ${f.cheapBesideFourHeavy.p50Ms}/${f.cheapBesideFourHeavy.p99Ms} ms (${f.cheapBesideFourHeavy.failures} failures)`);
  }
  const f: J | undefined = r.faults;
  if (f?.kill) lines.push(`KILL x${f.kill.killRounds}: ${f.kill.connectionsKilled} connections killed, ${f.kill.failedRequests} of ${f.kill.requestsAfterKill} requests failed (${f.kill.failureKinds.join(", ") || "none"}), recovery ${f.kill.recoveryMs} ms`);
  if (f?.lock) {
    lines.push(
      `account locked ${f.lock.lockedMs} ms: ${f.lock.databaseRequestsFailedCleanly}/${f.lock.databaseRequestsWhileLocked} database requests 503, /health/ready 503 ${f.lock.ready503WhileLocked}/${f.lock.readyPollsWhileLocked}, logins Aborted_connects +${f.lock.abortedConnectsDelta} Access_denied_errors +${f.lock.accessDeniedErrorsDelta}; recovery ${f.lock.recoveryMs} ms after unlock`,
    );
  }
  const s: J | undefined = r.shutdown;
  if (s?.sigtermUnderLoad) {
    const t = s.sigtermUnderLoad;
    lines.push(`SIGTERM under load: ${t.inFlightAnsweredWhole}/${t.inFlightAtSignal} in flight + ${t.halfSentUploadsAnsweredWhole}/${t.halfSentUploads} half-sent uploads answered whole, ${t.cutMidBody} cut, listener closed after ${t.listenerClosedMs} ms, exit ${t.exitCode} after ${t.exitMs} ms, Aborted_clients +${t.abortedClientsDelta}`);
  }
  if (s?.npmStart) lines.push(`SIGTERM to npm start: npm exit ${s.npmStart.npmExitCode} after ${s.npmStart.npmExitMs} ms, processes left ${s.npmStart.processesLeft.length}, port refused ${s.npmStart.portRefusedAfter}`);
  return lines;
}

/** Drops the run's database (whatever the tests did) and prints the figures worth quoting. */
export default async function globalTeardown(): Promise<void> {
  const name = process.env.REL_DATABASE_NAME;
  if (name) await dropDatabase(name);
  const lines = summary(readResults());
  process.stdout.write(`\n[reliability] summary (all figures in ${RESULTS_FILE}):\n${lines.map((l) => `  ${l}`).join("\n")}\n[reliability] database ${name ?? "(none)"} dropped\n`);
}
