import { createSeedFunction } from './container.js';

export const handler = createSeedFunction(process.env).handler;
