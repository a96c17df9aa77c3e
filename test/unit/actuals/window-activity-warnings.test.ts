import { InvocationContext } from '@azure/functions';

import { warnUncounted } from '../../../orchestrations/actuals/activities';

/** A real InvocationContext whose log lines are kept, with their level. */
function capturingContext() {
  const lines: [string, string][] = [];
  const context = new InvocationContext({ functionName: 'actualsLateWindow', logHandler: (level, ...args) => lines.push([level, args.join(' ')]) });
  return { context, lines };
}

describe('window refresh activities: records whose late files were not counted', () => {
  it('when a refresh left out the late files of records that do not read, then a warning per record names it, the window and why, and the update goes back unchanged', () => {
    const { context, lines } = capturingContext();
    const update = {
      windowId: '20260301T0000Z',
      labelled: 10,
      labelCoverage: 0.5,
      provisional: false,
      uncountedRecords: [
        { actualsId: 'a-1', reason: 'its stored actuals document is invalid: unmatched', files: 2 },
        { actualsId: 'a-2', reason: 'its stored actuals document is invalid: windows', files: 1 },
      ],
    };

    expect(warnUncounted(context, 'demand', update)).toBe(update);
    expect(lines).toEqual([
      ['warning', "window 20260301T0000Z of 'demand': 2 late labelled file(s) of actuals record 'a-1' not counted: the record cannot be read (its stored actuals document is invalid: unmatched)"],
      ['warning', "window 20260301T0000Z of 'demand': 1 late labelled file(s) of actuals record 'a-2' not counted: the record cannot be read (its stored actuals document is invalid: windows)"],
    ]);
  });

  it('when every record read, then nothing is logged', () => {
    const { context, lines } = capturingContext();

    warnUncounted(context, 'demand', { windowId: '20260301T0000Z', labelled: 10, labelCoverage: 0.5, provisional: false });
    expect(lines).toEqual([]);
  });
});
