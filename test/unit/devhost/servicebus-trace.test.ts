/** The trace context devhost gives a Service Bus triggered invocation, read from the message as the extension does. */
import { messageTraceParent } from '../../../devhost/triggers/servicebus-metadata';

const producer = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const other = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('messageTraceParent', () => {
  it('when the message carries Diagnostic-Id and traceparent, then Diagnostic-Id (what the SDKs set) is the invocation trace context', () => {
    expect(messageTraceParent({ applicationProperties: { 'Diagnostic-Id': producer, traceparent: other } })).toBe(producer);
  });

  it('when only traceparent is set, then it is used', () => {
    expect(messageTraceParent({ applicationProperties: { traceparent: producer } })).toBe(producer);
  });

  it('when Diagnostic-Id is not a W3C traceparent (the old hierarchical id), then a valid traceparent is used instead', () => {
    expect(messageTraceParent({ applicationProperties: { 'Diagnostic-Id': '|4bf92f35.1.', traceparent: producer } })).toBe(producer);
  });

  it('when the message carries no valid trace context, then there is none (the invocation starts its own trace)', () => {
    expect(messageTraceParent({})).toBeUndefined();
    expect(messageTraceParent({ applicationProperties: { model: 'churn' } })).toBeUndefined();
    expect(messageTraceParent({ applicationProperties: { traceparent: '00-00000000000000000000000000000000-b7ad6b7169203331-01' } })).toBeUndefined();
    expect(messageTraceParent({ applicationProperties: { traceparent: 42 } })).toBeUndefined();
  });
});
