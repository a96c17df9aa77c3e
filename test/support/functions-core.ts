/**
 * Jest stand-in for `@azure/functions-core` (mapped in jest.config.js). Jest resolves modules itself,
 * so devhost's `Module._load` hook does not apply; this module hands out the same core API, bound to
 * the worker of the current test file's module registry (`defaultWorker()` from devhost/worker).
 */
import { defaultWorker } from '../../devhost/worker';

const core = defaultWorker().coreApi;

export const version = core.version;
export const hostVersion = core.hostVersion;
export const registerFunction = core.registerFunction;
export const registerHook = core.registerHook;
export const setProgrammingModel = core.setProgrammingModel;
export const getProgrammingModel = core.getProgrammingModel;
export const log = core.log;
export const Disposable = core.Disposable;
