/**
 * durable-functions samples-ts/functions/smsPhoneVerification.ts (luxon replaced by Date): its
 * activity sends the challenge through a Twilio output binding, which devhost cannot honour, so
 * devhost must refuse to start instead of dropping the SMS. Not product code.
 */
import { type InvocationContext, output } from '@azure/functions';
import type { ActivityHandler, OrchestrationContext, OrchestrationHandler, Task, TimerTask } from 'durable-functions';
import * as df from 'durable-functions';

const sendSmsChallengeActivityName = 'sendSmsChallenge';

const smsPhoneVerification: OrchestrationHandler = function* (context: OrchestrationContext) {
  const phoneNumber: string = context.df.getInput();
  if (!phoneNumber) {
    throw new Error('A phone number input is required.');
  }
  const challengeCode: number = yield context.df.callActivity(sendSmsChallengeActivityName, phoneNumber);
  const expiration = new Date(context.df.currentUtcDateTime.getTime() + 90_000);
  const timeoutTask: TimerTask = context.df.createTimer(expiration);
  let authorized = false;
  for (let i = 0; i <= 3; i++) {
    const challengeResponseTask: Task = context.df.waitForExternalEvent('SmsChallengeResponse');
    const winner: Task = yield context.df.Task.any([challengeResponseTask, timeoutTask]);
    if (winner === timeoutTask) break;
    if (challengeResponseTask.result === challengeCode) {
      authorized = true;
      break;
    }
  }
  if (!timeoutTask.isCompleted) timeoutTask.cancel();
  return authorized;
};
df.app.orchestration('smsPhoneVerification', smsPhoneVerification);

const twilioOutput = output.generic({
  type: 'twilioSms',
  from: '%TwilioPhoneNumber%',
  accountSidSetting: 'TwilioAccountSid',
  authTokenSetting: 'TwilioAuthToken',
});

const sendSmsChallenge: ActivityHandler = function (phoneNumber: string, context: InvocationContext): number {
  const challengeCode: number = Math.floor(Math.random() * 10000);
  context.log(`Sending verification code ${challengeCode} to ${phoneNumber}.`);
  context.extraOutputs.set(twilioOutput, {
    body: `Your verification code is ${challengeCode.toPrecision(4)}`,
    to: phoneNumber,
  });
  return challengeCode;
};
df.app.activity(sendSmsChallengeActivityName, { extraOutputs: [twilioOutput], handler: sendSmsChallenge });
