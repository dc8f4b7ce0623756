import { wsAdapter } from './_ws.mjs';

export const { description, env, probe, createServer, createClient } = wsAdapter({ native: false });
