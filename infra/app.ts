// Entry point for the CDK CLI (cdk.json). The CLI sets CDK_OUTDIR, so the App synthesises itself on exit.
import { createApp } from './create-app.js';

createApp();
