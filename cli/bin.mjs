#!/usr/bin/env node
// The installed `mesh` command: loads the TypeScript CLI through tsx so there is no separate build step.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
