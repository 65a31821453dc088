/** Tests run TypeScript through SWC (fast, no type-check); `npm test` type-checks with tsc first. */
module.exports = {
  testEnvironment: "node",
  setupFiles: ["reflect-metadata"],
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  testTimeout: 120000,
  globalSetup: "<rootDir>/test/support/global-setup.ts",
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
