import { app } from '@azure/functions';

/** What the hooks saw, for tests (the sample app is in-process test code). */
export const hookLog: string[] = [];

app.hook.appStart((ctx) => {
  ctx.hookData.startedAt = 'now';
  hookLog.push('appStart');
});
app.hook.preInvocation((ctx) => {
  hookLog.push(`pre:${ctx.invocationContext.functionName}`);
});
app.hook.postInvocation((ctx) => {
  hookLog.push(`post:${ctx.invocationContext.functionName}:${ctx.error ? 'error' : 'ok'}`);
});
app.hook.appTerminate(() => {
  hookLog.push('appTerminate');
});
