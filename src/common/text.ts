import { registerDecorator, type ValidationOptions } from "class-validator";

/** Control characters (Cc): NUL, line breaks, tabs, escapes. */
const CONTROL = /\p{Cc}/u;
/** Unicode's format characters (Cf): zero-width spaces and joiners, bidi embeddings, overrides and isolates, the BOM, the soft hyphen. */
const INVISIBLE = /\p{Cf}/u;
/** Half of a surrogate pair on its own: no character at all (a JSON string may carry one as "\ud800"). */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * What is wrong with the characters of a text a person typed (names,
 * titles, investors, references, reasons), or null: every database must
 * store and compare it the same way, and two texts that look the same must
 * be the same. Refused: half a surrogate pair, control characters,
 * invisible format characters, and U+FFFD (the mark of bytes decoded in the
 * wrong encoding, which a write must never store silently).
 */
export function characterProblem(value: string): string | null {
  if (LONE_SURROGATE.test(value)) return "must be well-formed Unicode text (it holds half of a surrogate pair, such as \\ud800, which is no character)";
  if (CONTROL.test(value)) return "must not contain control characters (line breaks, tabs, …)";
  if (INVISIBLE.test(value)) return "must not contain invisible formatting characters (zero-width spaces or joiners, bidi overrides, …): they make different texts look alike";
  if (value.includes("\uFFFD")) return "must not contain U+FFFD (�), the mark of text decoded in the wrong encoding: correct the text where it came from";
  return null;
}

/** A text argument without the characters `characterProblem` refuses (e.g. a filter's `nameContains`: a NUL would match every name on SQLite). */
export function IsPlainText(options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: "isPlainText",
      target: object.constructor,
      propertyName,
      options,
      validator: {
        validate: (value: unknown) => typeof value !== "string" || characterProblem(value) === null,
        defaultMessage: (args) => (typeof args?.value === "string" && characterProblem(args.value)) || "must be text",
      },
    });
}
