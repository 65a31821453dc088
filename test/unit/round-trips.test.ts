/**
 * How a MySQL write's statements are cut into round trips (Statements.send):
 * in order, each trip within the byte bound by the estimate, and a statement
 * larger than the bound alone in its trip; a small write stays one trip.
 */
import { MAX_ROUND_TRIP_BYTES, roundTrips } from "../../src/ledger/round-trips";

const statement = (i: number, valueBytes = 0) => ({ sql: `INSERT INTO t (v) VALUES (?) /* ${i} */`, params: ["x".repeat(valueBytes)] });
/** What the estimate charges a statement: its text, and each string value twice (escaping at worst doubles it). */
const charged = (s: { sql: string; params: string[] }) => Buffer.byteLength(s.sql) + 2 + s.params.reduce((n, p) => n + 2 * Buffer.byteLength(p) + 2, 0);

describe("roundTrips", () => {
  it("keeps an ordinary write in one trip", () => {
    const statements = Array.from({ length: 12 }, (_, i) => statement(i, 100));
    expect(roundTrips(statements, MAX_ROUND_TRIP_BYTES)).toEqual([statements]);
  });

  it("cuts a large write into trips within the bound, every statement once and in order", () => {
    const statements = Array.from({ length: 500 }, (_, i) => statement(i, 10 + (i % 7) * 40));
    const trips = roundTrips(statements, 4096);
    expect(trips.length).toBeGreaterThan(10);
    expect(trips.flat()).toEqual(statements);
    const over = trips.filter((trip) => trip.reduce((n, s) => n + charged(s), 0) > 4096);
    expect(over).toEqual([]);
    // Each trip is as full as the bound allows: the next statement would not have fitted.
    trips.slice(0, -1).forEach((trip, i) => expect(trip.reduce((n, s) => n + charged(s), 0) + charged(trips[i + 1][0])).toBeGreaterThan(4096));
  });

  it("sends a statement larger than the bound alone, between the others", () => {
    const statements = [statement(0, 10), statement(1, 10_000), statement(2, 10)];
    expect(roundTrips(statements, 1024)).toEqual([[statements[0]], [statements[1]], [statements[2]]]);
  });

  it("counts characters beyond ASCII by their UTF-8 bytes", () => {
    const chinese = { sql: "INSERT INTO t (v) VALUES (?)", params: ["项".repeat(100)] };
    // 300 bytes of UTF-8, charged twice: 600 + 2 + the text; two such statements do not fit in 1,000 bytes.
    expect(roundTrips([chinese, chinese], 1000)).toHaveLength(2);
    expect(roundTrips([chinese, chinese], 2000)).toHaveLength(1);
  });
});
