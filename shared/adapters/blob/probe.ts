import type { DependencyProbe } from '../../ports/health';
import { dataContainer } from './client';

/** Blob Storage answers: the data container's properties can be read. */
export const blobProbe: DependencyProbe = {
  name: 'blob',
  async check() {
    await (await dataContainer()).getProperties();
  },
};
