import { InvariantError, invariant } from "../../src/common/errors";

describe("invariant", () => {
  it("throws an InvariantError naming what should have held when the condition fails", () => {
    expect(() => invariant(0, "a positive count")).toThrow(new InvariantError("a positive count"));
    expect(() => invariant(null, () => `region ${410102} in the tree`)).toThrow("invariant: region 410102 in the tree");
  });

  it("does nothing, and builds no message, when the condition holds", () => {
    const message = jest.fn(() => "never");
    expect(() => invariant({}, message)).not.toThrow();
    expect(message).not.toHaveBeenCalled();
  });
});
