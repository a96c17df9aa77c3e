import type { InvocationContext } from '@azure/functions';

import { isDomainError } from '../../shared/domain/errors';

/** The delivery a Service Bus trigger is handling, from its trigger metadata. */
export interface Delivery {
  /** The message id, when the metadata has one. */
  messageId: string | undefined;
  /** 1 on the first delivery. */
  deliveryCount: number;
}

export function deliveryOf(context: InvocationContext): Delivery {
  const metadata = context.triggerMetadata ?? {};
  return { messageId: typeof metadata.messageId === 'string' ? metadata.messageId : undefined, deliveryCount: Number(metadata.deliveryCount ?? 1) };
}

/** An error as a log line gives it: a DomainError's code and message, else the stack. */
export function failureReason(error: unknown): string {
  return isDomainError(error) ? `${error.code}: ${error.message}` : error instanceof Error ? (error.stack ?? error.message) : String(error);
}

/**
 * Logs a delivery that failed and is thrown back to the host: the message id, the delivery's
 * number and the reason, and on the entity's last delivery (its MaxDeliveryCount) that the message
 * goes to the dead-letter queue. The Node.js programming model gives a handler no way to
 * dead-letter a message itself, so the broker dead-letters it with the generic
 * `MaxDeliveryCountExceeded`: this line is where its reason is. `never` says why a message can
 * never be handled (its deliveries fail alike until then).
 */
export function logFailedDelivery(
  context: InvocationContext,
  input: { handler: string; delivery: Delivery; maxDeliveryCount: number; error: unknown; never?: string },
): void {
  const { handler, delivery, maxDeliveryCount, error, never } = input;
  const last = delivery.deliveryCount >= maxDeliveryCount;
  const fate = last
    ? ' for the last time: it goes to the dead-letter queue'
    : never
      ? `, and every delivery will (${never}): it goes to the dead-letter queue after delivery ${maxDeliveryCount}`
      : '';
  context.error(`${handler}: message ${delivery.messageId ?? '(no id)'}, delivery ${delivery.deliveryCount}, failed${fate}: ${failureReason(error)}`);
}
