import { errors } from '../../domain/errors';
import type { TrainingWebhook } from '../../ports/training-webhook';
import type { TrainingJob } from '../../schemas/retraining';
import { traceFields } from '../telemetry/invocation';

/** How long one POST may take before it counts as an outage (and is retried). */
const TIMEOUT_MS = 30_000;

/** How much of a failing answer's body is read and quoted. */
const QUOTED_CHARS = 500;

/**
 * The start of a response body (at most `max` characters), without reading the rest: a pipeline
 * answering an error with a huge or endless body neither fills memory nor holds the post until
 * its timeout. A body that breaks off gives what arrived.
 */
async function startOf(response: Response, max: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader() as ReadableStreamDefaultReader<Uint8Array>;
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < max * 4) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // What arrived before it broke off is the answer.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, max);
}

/**
 * Posts a training job as JSON with `Idempotency-Key: {requestId}`, so a pipeline can drop the
 * repeat of a retried post, and the active span's `traceparent`, so the job joins the retraining's
 * trace. 408 and 429 are outages like 5xx; any other 4xx is a refusal. Redirects are not followed
 * (fetch would repeat a POST answered 301, 302 or 303 as a GET, without the job, and a login page
 * answering it would pass for the pipeline taking the job): a 3xx is a refusal naming where it
 * points.
 */
export class HttpTrainingWebhook implements TrainingWebhook {
  async submit(url: string, job: TrainingJob): Promise<void> {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': job.requestId, ...traceFields() },
      body: JSON.stringify(job),
      redirect: 'manual',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    if (response.ok) {
      await response.body?.cancel().catch(() => undefined);
      return;
    }
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel().catch(() => undefined);
      const location = response.headers.get('location');
      throw errors.validation(
        `the training webhook answered ${response.status} ${response.statusText} (a redirect${location ? ` to ${location.slice(0, 200)}` : ''}) instead of taking the job ${job.requestId}: RETRAINING_WEBHOOK_URL must be the endpoint that takes the POST`,
        { status: response.status },
      );
    }
    const text = await startOf(response, QUOTED_CHARS);
    const answer = `${response.status} ${response.statusText}${text ? `: ${text}` : ''}`;
    if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) {
      throw errors.validation(`the training webhook refused the job ${job.requestId}: ${answer}`, { status: response.status });
    }
    throw new Error(`the training webhook failed for ${job.requestId}: ${answer}`);
  }
}
