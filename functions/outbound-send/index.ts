import { createSendFunction } from './container.js';

export const handler = createSendFunction(process.env).handler;
