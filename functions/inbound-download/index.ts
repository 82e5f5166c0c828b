import { createDownloadFunction } from './container.js';

export const handler = createDownloadFunction(process.env).handler;
