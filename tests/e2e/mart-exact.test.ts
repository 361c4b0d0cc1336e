import { describeMartExact } from './support/mart-exact-scenario.js';

// The scenario itself (and what it proves) is in support/mart-exact-scenario.ts; the secured stack
// runs the same one (tests/secure/pipeline.test.ts).
describeMartExact('reporting mart is exactly-once and equal to the truth SQL');
