// Moved to src/connection/data.ts; this re-export keeps old import paths working until they are updated.
export * from '../connection/data.js';
