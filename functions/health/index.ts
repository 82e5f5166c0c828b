import { createHealthFunction } from './container.js';

export const handler = createHealthFunction(process.env).handler;
