import { createConsoleFunction } from './container.js';

export const handler = createConsoleFunction(process.env).handler;
