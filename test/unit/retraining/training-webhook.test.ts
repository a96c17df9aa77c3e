import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { context, trace } from '@opentelemetry/api';

import { HttpTrainingWebhook } from '../../../shared/adapters/http/training-webhook';
import { retrainingRequestSchema } from '../../../shared/schemas/messages';
import { submitTrainingJob } from '../../../shared/usecases/retraining';
import { aRetrainingRequest } from '../../support/labelled-data';
import { captureSpans, type SpanCapture } from '../../support/span-capture';

const input = { requestId: 'retrain:churn:20260601T0000Z', model: 'churn', request: retrainingRequestSchema.parse(aRetrainingRequest('churn', 3, '20260601T0000Z')) };

/** A pipeline endpoint answering `status`, keeping what it received. */
async function aPipeline(status: number, body = '') {
  const received: { headers: http.IncomingHttpHeaders; body: unknown }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      res.writeHead(status).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jobs?code=secret`;
  return { url, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('handing a retraining request to a webhook trainer', () => {
  it('when the pipeline takes the job, then it got the request, where to report and the lineage, keyed by the request id', async () => {
    const pipeline = await aPipeline(202);
    try {
      const answer = await submitTrainingJob({ webhook: new HttpTrainingWebhook(), webhookUrl: pipeline.url, timeout: 'PT6H' }, input);
      expect(answer).toEqual({ timeout: 'PT6H' });
      expect(pipeline.received).toHaveLength(1);
      expect(pipeline.received[0]!.headers).toMatchObject({ 'content-type': 'application/json', 'idempotency-key': input.requestId });
      expect(pipeline.received[0]!.body).toEqual({
        requestId: input.requestId,
        request: input.request,
        complete: { method: 'POST', path: '/api/models/churn/retraining/retrain:churn:20260601T0000Z/complete' },
        lineage: { parentVersion: 3, trainingRun: input.requestId },
      });
    } finally {
      await pipeline.close();
    }
  });

  it('when the job is posted under a span (the submitting activity\'s), then the post carries its traceparent; with none, no traceparent', async () => {
    const pipeline = await aPipeline(202);
    const job = { ...input, complete: { method: 'POST' as const, path: '/x' }, lineage: { parentVersion: 3, trainingRun: input.requestId } };
    let capture: SpanCapture | undefined;
    try {
      await new HttpTrainingWebhook().submit(pipeline.url, job);
      capture = captureSpans();
      const span = trace.getTracer('test').startSpan('submitTrainingJob');
      await context.with(trace.setSpan(context.active(), span), () => new HttpTrainingWebhook().submit(pipeline.url, job));
      span.end();
      const { traceId, spanId } = span.spanContext();
      expect(pipeline.received.map((r) => r.headers.traceparent)).toEqual([undefined, `00-${traceId}-${spanId}-01`]);
    } finally {
      await capture?.stop();
      await pipeline.close();
    }
  });

  it('when the pipeline refuses the job, then a VALIDATION_ERROR carries its answer; a 5xx or 429 is an outage to retry', async () => {
    const refusing = await aPipeline(400, 'unknown model');
    const failing = await aPipeline(503, 'busy');
    const throttling = await aPipeline(429);
    const webhook = new HttpTrainingWebhook();
    try {
      const job = { ...input, complete: { method: 'POST' as const, path: '/x' }, lineage: { parentVersion: 3, trainingRun: input.requestId } };
      await expect(webhook.submit(refusing.url, job)).rejects.toMatchObject({ code: 'VALIDATION_ERROR', message: expect.stringMatching(/refused the job .*: 400 Bad Request: unknown model$/) });
      await expect(webhook.submit(failing.url, job)).rejects.toThrow(/failed for .*: 503 Service Unavailable: busy/);
      await expect(webhook.submit(failing.url, job)).rejects.not.toHaveProperty('code');
      await expect(webhook.submit(throttling.url, job)).rejects.not.toHaveProperty('code');
    } finally {
      await Promise.all([refusing.close(), failing.close(), throttling.close()]);
    }
  });

  it('when the webhook URL redirects (a login page, http to https), then the job is refused naming where it points, not taken by whatever answers the GET', async () => {
    const gets: string[] = [];
    const server = http.createServer((req, res) => {
      if (req.method === 'GET') {
        gets.push(req.url ?? '');
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html>sign in</html>');
        return;
      }
      req.resume();
      req.on('end', () => res.writeHead(302, { location: '/login?return=jobs' }).end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jobs`;
    try {
      const job = { ...input, complete: { method: 'POST' as const, path: '/x' }, lineage: { parentVersion: 3, trainingRun: input.requestId } };
      await expect(new HttpTrainingWebhook().submit(url, job)).rejects.toMatchObject({
        code: 'VALIDATION_ERROR',
        message: expect.stringMatching(/answered 302 Found \(a redirect to \/login\?return=jobs\) instead of taking the job/),
      });
      expect(gets).toEqual([]);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('when a failing webhook answers with an endless body, then the post fails at once quoting its start, without waiting for the body to end', async () => {
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        const drip = setInterval(() => res.write('stack trace line '.repeat(8)), 5);
        res.on('close', () => clearInterval(drip));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jobs`;
    try {
      const job = { ...input, complete: { method: 'POST' as const, path: '/x' }, lineage: { parentVersion: 3, trainingRun: input.requestId } };
      const started = Date.now();
      const failure: Error = await new HttpTrainingWebhook().submit(url, job).then(
        () => new Error('taken'),
        (e: Error) => e,
      );
      expect(Date.now() - started).toBeLessThan(3000);
      expect(failure.message).toMatch(/^the training webhook failed for .*: 500 Internal Server Error: (stack trace line )+/);
      expect(failure.message.length).toBeLessThan(700);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }, 10_000);

  it('when no webhook URL is set, then submitting is a VALIDATION_ERROR naming the setting', async () => {
    await expect(submitTrainingJob({ webhook: new HttpTrainingWebhook(), webhookUrl: undefined, timeout: 'P1D' }, input)).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
      message: expect.stringMatching(/RETRAINING_WEBHOOK_URL is not set/),
    });
  });
});
