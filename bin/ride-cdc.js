#!/usr/bin/env node
// Runs the TypeScript CLI in this same process through tsx's loader, so signals (SIGTERM drain)
// reach the worker directly and `npx ride-cdc` works without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
