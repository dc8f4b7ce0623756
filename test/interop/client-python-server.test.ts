// Client under test (test/peers/impl.ts: currently the `ws` stand-in) × Python websockets server.
import { implClient } from '../peers/clients.js';
import { IMPL_NAME } from '../peers/impl.js';
import { pythonServer } from '../peers/servers.js';
import { interopSuite } from '../peers/suite.js';

interopSuite({ title: `client ${IMPL_NAME} × server python websockets`, server: pythonServer, client: implClient });
