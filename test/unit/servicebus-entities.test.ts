import type { Message } from 'rhea';

import { type Envelope, matchesCorrelation, ReceivingEntity } from '../../devhost/servicebus/entities';

const properties = {
  lockDurationMs: 1000,
  maxDeliveryCount: 3,
  defaultTtlMs: undefined,
  deadLetterOnExpiry: false,
};

function anEnvelope(entity: ReceivingEntity, seq: number): Envelope {
  return {
    rowId: seq,
    seq,
    entity,
    state: 'active',
    message: { body: seq },
    enqueuedAt: 0,
    expiresAt: 1,
    deliveryCount: 0,
  };
}

describe('broker entities', () => {
  it('when a taken message is put back, then it is handed out again before later ones', () => {
    const entity = new ReceivingEntity('q', properties);
    for (const seq of [1, 2, 3]) entity.add(anEnvelope(entity, seq));
    expect(entity.takeReady()?.seq).toBe(1);
    expect(entity.takeReady()?.seq).toBe(2);
    entity.makeReady(1);
    expect([entity.takeReady()?.seq, entity.takeReady()?.seq, entity.takeReady()]).toEqual([1, 3, undefined]);
  });

  it('when a ready message was removed or deferred meanwhile, then it is skipped', () => {
    const entity = new ReceivingEntity('q', properties);
    for (const seq of [1, 2, 3]) entity.add(anEnvelope(entity, seq));
    entity.remove(1);
    entity.messages.get(2)!.state = 'deferred';
    expect(entity.takeReady()?.seq).toBe(3);
    expect(entity.hasReady()).toBe(false);
  });

  it('when thousands of messages flow through, then order holds across the internal compaction', () => {
    const entity = new ReceivingEntity('q', properties);
    const taken: number[] = [];
    for (let seq = 1; seq <= 5000; seq++) {
      entity.add(anEnvelope(entity, seq));
      if (seq % 2 === 0) taken.push(entity.takeReady()!.seq);
    }
    for (let e = entity.takeReady(); e; e = entity.takeReady()) taken.push(e.seq);
    expect(taken).toEqual([...Array(5000).keys()].map((i) => i + 1));
  });

  it('when a correlation filter names a subject and properties, then all of them must match in value and type', () => {
    const message = {
      subject: 'drift.detected',
      application_properties: { model: 'churn', version: 3 },
    } as unknown as Message;
    expect(matchesCorrelation({ Label: 'drift.detected' }, message)).toBe(true);
    expect(
      matchesCorrelation({ Label: 'drift.detected', Properties: { model: 'churn', version: 3 } }, message),
    ).toBe(true);
    // The service compares typed values: the string '3' is not the number 3.
    expect(matchesCorrelation({ Properties: { version: '3' } }, message)).toBe(false);
    expect(matchesCorrelation({ Label: 'run.completed' }, message)).toBe(false);
    expect(matchesCorrelation({ Label: 'drift.detected', Properties: { model: 'fraud' } }, message)).toBe(
      false,
    );
    expect(matchesCorrelation({ CorrelationId: 'x' }, message)).toBe(false);
  });
});
