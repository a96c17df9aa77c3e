/**
 * HTTP streams: request and response bodies stream between the client and the handlers instead
 * of being held whole in the worker, so a model upload or a model.onnx download (up to
 * MAX_ARTIFACT_BYTES) costs the streams' buffers, not its size. The host forwards each HTTP
 * request to the worker's own proxy server for this (Functions host 4.28 or later, which Flex
 * Consumption runs; devhost plays that part locally). `@azure/functions` reads the option when the
 * worker reports its capabilities, after every entry point has loaded; this file also sorts
 * before every file that registers, so the option is set before any registration.
 */
import { app } from '@azure/functions';

app.setup({ enableHttpStream: true });
