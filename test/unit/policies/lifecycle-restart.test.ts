import { MAX_LIFECYCLE_RESTARTS, restartRefusal } from '../../../shared/domain/policies/lifecycle-restart';
import type { LifecycleRestart } from '../../../shared/schemas/model-version';

const restart = (at: string): LifecycleRestart => ({ at, state: 'registered', cause: "the orchestration instance 'lifecycle:demand:4' ended (Failed) without recording the outcome" });
const restarts = (count: number) => Array.from({ length: count }, (_, i) => restart(`2026-03-0${i + 1}T00:00:00.000Z`));

describe('restartRefusal', () => {
  it('when a version was never restarted, or fewer times than the limit, then it may be started again', () => {
    expect(restartRefusal({ modelName: 'demand' }, 'registered', 'lifecycle:demand:4')).toBeUndefined();
    expect(restartRefusal({ modelName: 'demand', lifecycleRestarts: restarts(MAX_LIFECYCLE_RESTARTS - 1) }, 'pending_approval', 'lifecycle:demand:4')).toBeUndefined();
  });

  it('when a registered version was restarted as often as the limit, then it is refused with the last restart and what a person does about a version not validated', () => {
    expect(restartRefusal({ modelName: 'demand', lifecycleRestarts: restarts(MAX_LIFECYCLE_RESTARTS) }, 'registered', 'lifecycle:demand:4')).toBe(
      `its lifecycle was started again ${MAX_LIFECYCLE_RESTARTS} times already (the last at 2026-03-0${MAX_LIFECYCLE_RESTARTS}T00:00:00.000Z), and ended again, so it is left for a person: read why in the history of 'lifecycle:demand:4' (GET /runtime/webhooks/durabletask/instances/{instanceId}?showHistory=true), then retire the version, and once the cause is fixed register the package again as a new version (a new Idempotency-Key, or a changed manifest)`,
    );
  });
});
