/**
 * The reliability suite (`npm run test:reliability`): the compiled server as a real child process on a
 * MariaDB database of its own, hostile input, load, database faults, shutdown. Run in band (one server at a time,
 * so the measured figures are not disturbed by another test file); figures go to test/reliability/results/latest.json.
 */
module.exports = {
  rootDir: "../..",
  roots: ["<rootDir>/test/reliability"],
  testMatch: ["**/*.test.ts"],
  testEnvironment: "node",
  setupFiles: ["reflect-metadata"],
  globalSetup: "<rootDir>/test/reliability/support/global-setup.ts",
  globalTeardown: "<rootDir>/test/reliability/support/global-teardown.ts",
  testTimeout: 240000,
  // Files in a fixed order: the cheap hostile corpus first, the shutdown last.
  testSequencer: "<rootDir>/test/reliability/support/sequencer.js",
  transform: {
    "^.+\\.ts$": [
      "@swc/jest",
      {
        jsc: {
          target: "es2022",
          parser: { syntax: "typescript", decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          keepClassNames: true,
        },
        module: { type: "commonjs" },
      },
    ],
  },
};
