// The `mesh` command's entry point (`npm run mesh`, or cli/bin.mjs when installed): everything else is in run.ts.
import { main, reportUnexpected } from './run.js';

// A stray stream error or rejection must still end in one line on stderr, not a stack trace.
process.on('uncaughtException', (error) => reportUnexpected(error));
process.on('unhandledRejection', (error) => reportUnexpected(error));

process.exitCode = await main(process.argv.slice(2));
