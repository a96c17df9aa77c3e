import fs from 'node:fs';
import path from 'node:path';

import { EXAMPLE_DIR, exampleFiles } from '../support/examples';

describe('examples/demand (the README walk-through)', () => {
  it('when the example files are generated again, then they equal the committed ones', () => {
    const generated = exampleFiles();
    for (const [name, body] of Object.entries(generated)) {
      expect({ name, same: fs.readFileSync(path.join(EXAMPLE_DIR, name)).equals(body) }).toEqual({ name, same: true });
    }
  });
});
