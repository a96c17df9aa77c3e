/**
 * Fidelity suite, startup checks: devhost refuses an app whose bindings it cannot honour, naming
 * each one, instead of dropping their data at run time (issue 15 item 2).
 */
import path from 'node:path';

import { UnsupportedBindingsError } from '../../devhost/host/bindings/support';
import { startHost } from '../../devhost/host/host';
import { defaultWorker, loadApp } from '../../devhost/worker';

const appDir = path.join(__dirname, '../fidelity-unsupported-app');

describe('fidelity: unsupported bindings are refused at startup', () => {
  it('when the smsPhoneVerification sample declares a Twilio output, then the host refuses to start and names the function and binding', async () => {
    const worker = defaultWorker();
    worker.setLogSink(() => undefined);
    loadApp(worker, appDir);
    const started = startHost({ worker, appDir, port: 0, log: () => undefined });
    await expect(started).rejects.toThrow(UnsupportedBindingsError);
    await expect(started).rejects.toThrow(/function 'sendSmsChallenge': output binding '\S+' \(type twilioSms\)/);
    // The error carries every refused binding, for tools that want more than the message.
    await expect(started.catch((err: UnsupportedBindingsError) => err.bindings)).resolves.toEqual([
      expect.objectContaining({ functionName: 'sendSmsChallenge', type: 'twilioSms', direction: 'out' }),
    ]);
  });
});
