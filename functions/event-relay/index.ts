import { createRelayFunction } from './container.js';

export const handler = createRelayFunction(process.env).handler;
