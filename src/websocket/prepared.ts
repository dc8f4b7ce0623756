// Moved to src/connection/prepared.ts; this re-export keeps old import paths working until they are updated.
export * from '../connection/prepared.js';
