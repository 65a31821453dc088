import { getOrCreate } from "./maps";

/**
 * Answers a DataLoader batch by groups of requests that share a key (a
 * filter, a period, a year): one `load` per group, which answers the group's
 * requests in their order. The groups run at once; a group's failure fails
 * its own requests only.
 */
export async function loadByGroup<R, T>(requests: readonly R[], keyOf: (request: R) => string, load: (group: R[]) => Promise<T[]>): Promise<Array<T | Error>> {
  const results: Array<T | Error> = new Array(requests.length);
  const groups = new Map<string, number[]>();
  requests.forEach((request, i) => getOrCreate(groups, keyOf(request), () => []).push(i));
  await Promise.all(
    [...groups.values()].map(async (indexes) => {
      try {
        const answers = await load(indexes.map((i) => requests[i]));
        indexes.forEach((i, j) => (results[i] = answers[j]));
      } catch (error) {
        for (const i of indexes) results[i] = error as Error;
      }
    }),
  );
  return results;
}
