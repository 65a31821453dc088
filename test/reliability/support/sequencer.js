/** Runs the reliability files in a fixed order (hostile, load, faults, shutdown) instead of by past duration. */
const Sequencer = require("@jest/test-sequencer").default;

const ORDER = ["hostile", "load", "faults", "shutdown"];

class ReliabilitySequencer extends Sequencer {
  sort(tests) {
    const rank = (test) => {
      const i = ORDER.findIndex((name) => test.path.endsWith(`${name}.test.ts`));
      return i === -1 ? ORDER.length : i;
    };
    return [...tests].sort((a, b) => rank(a) - rank(b) || a.path.localeCompare(b.path));
  }
}

module.exports = ReliabilitySequencer;
