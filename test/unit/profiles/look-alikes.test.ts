import { lookAlikesOf } from '../../../shared/domain/profiles/look-alikes';

describe('unseen categories that look like known ones', () => {
  it('when an unseen value is a known one with spaces around it or in another case, then it is named with that known value', () => {
    expect(lookAlikesOf([' north', 'North ', 'SOUTH', 'east'], ['north', 'south'])).toEqual([
      { value: ' north', known: 'north' },
      { value: 'North ', known: 'north' },
      { value: 'SOUTH', known: 'south' },
    ]);
  });

  it('when a value differs inside (a space within, another letter) or is itself known, then it is no look-alike', () => {
    expect(lookAlikesOf(['no rth', 'nort', 'North'], ['north', 'North'])).toEqual([]);
  });

  it('when two known values differ only in case, then the one earlier in the known list is named', () => {
    expect(lookAlikesOf(['NORTH'], ['North', 'north'])).toEqual([{ value: 'NORTH', known: 'North' }]);
  });
});
