import { InvocationContext } from '@azure/functions';

import { endedJoinState, warnUncounted } from '../../../orchestrations/actuals/activities';
import { anActualsRecord } from '../../support/builders';

/** A real InvocationContext whose log lines are kept, with their level. */
function capturingContext(functionName = 'actualsLateWindow') {
  const lines: [string, string][] = [];
  const context = new InvocationContext({ functionName, logHandler: (level, ...args) => lines.push([level, args.join(' ')]) });
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

  it('when a join\'s completion or failure replaced older versions of its path and a window it recomputed left out a record\'s late files, then the step warns as a window activity does, and answers the record\'s state only', () => {
    const { context, lines } = capturingContext('actualsComplete');
    const uncountedRecords = [{ actualsId: 'a-bad', reason: 'its stored actuals document is invalid: matched', files: 3 }];
    const ended = {
      record: anActualsRecord('demand', 'a-2', undefined, { state: 'completed' }),
      replacement: {
        replaced: [anActualsRecord('demand', 'a-1')],
        windows: [
          { windowId: '20260301T0000Z', labelled: 2, labelCoverage: 0.5, provisional: false, uncountedRecords },
          { windowId: '20260302T0000Z', labelled: 4, labelCoverage: 1, provisional: false },
        ],
      },
    };

    expect(endedJoinState(context, 'demand', ended)).toEqual({ state: 'completed' });
    expect(lines).toEqual([
      ['warning', "window 20260301T0000Z of 'demand': 3 late labelled file(s) of actuals record 'a-bad' not counted: the record cannot be read (its stored actuals document is invalid: matched)"],
    ]);
  });
});
