/** An id as the API shows it ("12") to the stored number; null for anything else (ids are at most nine digits). */
export function parseId(value: unknown): number | null {
  return typeof value === "string" && /^\d{1,9}$/.test(value) ? Number(value) : null;
}
