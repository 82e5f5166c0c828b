import { createPollFunction } from './container.js';

export const handler = createPollFunction(process.env).handler;
