// Moved to src/stack/scenario.ts (bench/ shares it); this re-export keeps older imports working.
export * from '../../../src/stack/scenario.js';
