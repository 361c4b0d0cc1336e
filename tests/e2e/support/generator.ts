// Moved to src/stack/generator-process.ts (bench/ shares it); this re-export keeps older imports working.
export * from '../../../src/stack/generator-process.js';
