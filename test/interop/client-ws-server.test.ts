// Client under test (test/peers/impl.ts: currently the `ws` stand-in) × `ws` server.
import { implClient } from '../peers/clients.js';
import { IMPL_NAME } from '../peers/impl.js';
import { wsServer } from '../peers/servers.js';
import { interopSuite } from '../peers/suite.js';

interopSuite({ title: `client ${IMPL_NAME} × server ws`, server: wsServer, client: implClient });
