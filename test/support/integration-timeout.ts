// Jest reads `testTimeout` from the root configuration only, so the integration project sets its
// longer timeout here (real services, several round trips per test).
jest.setTimeout(60_000);
