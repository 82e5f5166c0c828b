import { createTrackerFunction } from './container.js';

export const handler = createTrackerFunction(process.env).handler;
