/**
 * Jest's node environment gives each test file its own realm, so typed arrays created by native
 * addons (onnxruntime-node's output tensors) fail `instanceof Float32Array` checks made inside
 * the sandbox. Test files that run onnxruntime use this environment, which shares the host's
 * typed-array constructors with the sandbox.
 */
const { TestEnvironment } = require('jest-environment-node');

const shared = [
  'ArrayBuffer',
  'SharedArrayBuffer',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
  'DataView',
];

class HostTypedArraysEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of shared) this.global[name] = globalThis[name];
  }
}

module.exports = HostTypedArraysEnvironment;
