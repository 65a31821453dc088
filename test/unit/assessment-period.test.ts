/**
 * The assessment's arithmetic (src/assessment/period.ts): the days of a
 * period, the share elapsed (today counted; leap years; before and after),
 * the completion rate (a zero target), the cards at their thresholds, and
 * competition ranking (1, 2, 2, 4), each against figures worked out by hand.
 */
import { cardOf, competitionRanks, completionRate, elapsedShare, periodOf } from "../../src/assessment/period";
import { checkPeriod } from "../../src/assessment/period";
import { loadConfig } from "../../src/config";
import { Problems } from "../../src/ledger/problems";

describe("assessment periods", () => {
  it("a year and its quarters, first and last day (2024 is a leap year)", () => {
    expect(periodOf(2024, null)).toEqual({ year: 2024, quarter: null, from: "2024-01-01", to: "2024-12-31" });
    expect(periodOf(2024, 1)).toEqual({ year: 2024, quarter: 1, from: "2024-01-01", to: "2024-03-31" });
    expect(periodOf(2024, 2)).toEqual({ year: 2024, quarter: 2, from: "2024-04-01", to: "2024-06-30" });
    expect(periodOf(2023, 3)).toEqual({ year: 2023, quarter: 3, from: "2023-07-01", to: "2023-09-30" });
    expect(periodOf(2023, 4)).toEqual({ year: 2023, quarter: 4, from: "2023-10-01", to: "2023-12-31" });
  });

  it("the share elapsed counts today, is 0 before the period and 1 after it", () => {
    expect(elapsedShare(periodOf(2024, null), "2024-01-01")).toBe(1 / 366);
    expect(elapsedShare(periodOf(2023, null), "2023-01-01")).toBe(1 / 365);
    expect(elapsedShare(periodOf(2024, null), "2024-03-01")).toBe(61 / 366); // 31 + 29 + 1
    expect(elapsedShare(periodOf(2024, 1), "2024-03-31")).toBe(1);
    expect(elapsedShare(periodOf(2024, 2), "2024-04-30")).toBe(30 / 91);
    expect(elapsedShare(periodOf(2024, 2), "2024-03-31")).toBe(0);
    expect(elapsedShare(periodOf(2024, 2), "2025-01-01")).toBe(1);
  });

  it("checks years 2000..2100 and quarters 1..4 or null", () => {
    const problems = new Problems();
    checkPeriod(problems, "input", 1999, 0);
    checkPeriod(problems, "", 2101, 2.5);
    checkPeriod(problems, "", 2000, null);
    checkPeriod(problems, "", 2100, 4);
    expect(problems.list.map((p) => p.field)).toEqual(["input.year", "input.quarter", "year", "quarter"]);
  });
});

describe("completion, cards and ranks", () => {
  it("rate is reached over target, null without one, 1 for a zero target", () => {
    expect(completionRate(30_000, 40_000)).toBe(0.75);
    expect(completionRate(30_000, null)).toBeNull();
    expect(completionRate(0, 0)).toBe(1);
    expect(completionRate(5, 0)).toBe(1);
  });

  it("cards at their thresholds: GREEN from elapsed × greenAt, YELLOW from elapsed × yellowAt", () => {
    const settings = { greenAt: 1, yellowAt: 0.8 };
    expect(cardOf(0.5, 0.5, settings)).toBe("GREEN");
    expect(cardOf(0.4999, 0.5, settings)).toBe("YELLOW");
    expect(cardOf(0.4, 0.5, settings)).toBe("YELLOW");
    expect(cardOf(0.3999, 0.5, settings)).toBe("RED");
    expect(cardOf(0, 0, settings)).toBe("GREEN");
    expect(cardOf(null, 0.5, settings)).toBeNull();
    expect(cardOf(0.9, 1, { greenAt: 0.9, yellowAt: 0.5 })).toBe("GREEN");
  });

  it("competition ranking: 1, 2, 2, 4; no rate, no rank", () => {
    const ranks = competitionRanks([
      { key: "a", rate: 0.5 },
      { key: "b", rate: 0.9 },
      { key: "c", rate: null },
      { key: "d", rate: 0.5 },
      { key: "e", rate: 0.1 },
    ]);
    expect(Object.fromEntries(ranks)).toEqual({ b: 1, a: 2, d: 2, e: 4 });
  });
});

describe("assessment settings", () => {
  it("defaults to 1.0 and 0.8 with today unpinned; reads decimals and a pinned day", () => {
    expect(loadConfig({}).assessment).toEqual({ greenAt: 1, yellowAt: 0.8, today: null });
    expect(loadConfig({ ASSESSMENT_GREEN_AT: "0.9", ASSESSMENT_YELLOW_AT: "0.75", ASSESSMENT_TODAY: "2024-02-29" }).assessment).toEqual({ greenAt: 0.9, yellowAt: 0.75, today: "2024-02-29" });
  });

  it.each([
    [{ ASSESSMENT_GREEN_AT: "-1" }, /ASSESSMENT_GREEN_AT must be a decimal number/],
    [{ ASSESSMENT_GREEN_AT: "11" }, /ASSESSMENT_GREEN_AT must be between 0 and 10/],
    [{ ASSESSMENT_YELLOW_AT: "80%" }, /ASSESSMENT_YELLOW_AT must be a decimal number/],
    [{ ASSESSMENT_GREEN_AT: "0.7" }, /ASSESSMENT_YELLOW_AT must not be above ASSESSMENT_GREEN_AT \(0.7\)/],
    [{ ASSESSMENT_TODAY: "2023-02-29" }, /ASSESSMENT_TODAY must be a calendar date/],
    [{ ASSESSMENT_TODAY: "tomorrow" }, /ASSESSMENT_TODAY must be a calendar date/],
  ])("refuses %j", (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});
