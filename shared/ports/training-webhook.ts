import type { TrainingJob } from '../schemas/retraining';

/**
 * An external training pipeline behind a URL (an Azure ML or Databricks job trigger). `submit`
 * posts the job; a 2xx answer means the pipeline took it, and it reports back through
 * `POST /api/models/{model}/retraining/{requestId}/complete`. A refusal (4xx) is a DomainError
 * (VALIDATION_ERROR with the pipeline's answer); an outage or a 5xx is thrown to be retried.
 */
export interface TrainingWebhook {
  submit(url: string, job: TrainingJob): Promise<void>;
}
