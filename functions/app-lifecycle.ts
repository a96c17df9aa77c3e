/**
 * Process shutdown: the host runs appTerminate hooks before it stops the worker, so the shared
 * Service Bus and Cosmos clients close their connections (and the AMQP heartbeat and retry timers
 * they hold) instead of being cut off mid-flight, and the spans not yet exported are flushed.
 */
import { app } from '@azure/functions';

import { closeCosmos } from '../shared/adapters/cosmos/client';
import { closeServiceBus } from '../shared/adapters/servicebus/client';
import { shutdownTelemetry } from '../shared/adapters/telemetry/tracing';

app.hook.appTerminate(async () => {
  closeCosmos();
  await closeServiceBus();
  await shutdownTelemetry();
});
