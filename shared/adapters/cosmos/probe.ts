import type { DependencyProbe } from '../../ports/health';
import { cosmosContainers } from './client';

/** Cosmos DB answers: the database and its containers can be read. */
export const cosmosProbe: DependencyProbe = {
  name: 'cosmos',
  async check() {
    const { models } = await cosmosContainers();
    await models.read();
  },
};
