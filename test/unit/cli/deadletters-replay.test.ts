import type { ServiceBusReceivedMessage } from '@azure/service-bus';

import { replayCopyOf } from '../../../cli/deadletters';

const deadLetter = (messageId: string, sequenceNumber: number): ServiceBusReceivedMessage =>
  ({ messageId, sequenceNumber: BigInt(sequenceNumber), body: { model: 'demand' }, subject: 'retrain', applicationProperties: { kind: 'drift' } }) as unknown as ServiceBusReceivedMessage;

describe('the copy mlops deadletters sends again', () => {
  it('when a dead letter is replayed, then its content goes under replay:<sequence number>:<original id>, and a replayed copy replayed again keeps the original id once', () => {
    const copy = replayCopyOf(deadLetter('retrain:demand:20261101T0000Z', 42));
    expect(copy).toEqual({ body: { model: 'demand' }, messageId: 'replay:42:retrain:demand:20261101T0000Z', subject: 'retrain', applicationProperties: { kind: 'drift' } });
    expect(replayCopyOf(deadLetter(copy.messageId as string, 57)).messageId).toBe('replay:57:retrain:demand:20261101T0000Z');
  });

  it('when the original id is as long as Service Bus allows (128), then the copy\'s id is cut to 128 and still starts with its own sequence number', () => {
    const original = `retrain:${'m'.repeat(100)}:20261101T0000Z`.slice(0, 128);
    const id = replayCopyOf(deadLetter(original, 123456789)).messageId as string;
    expect(id).toHaveLength(128);
    expect(id).toBe(`replay:123456789:${original}`.slice(0, 128));
  });
});
