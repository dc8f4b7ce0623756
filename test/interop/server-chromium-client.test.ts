// Server under test (test/peers/impl.ts: currently the `ws` stand-in) × Chromium's WebSocket.
import { chromiumClient } from '../peers/clients.js';
import { IMPL_NAME } from '../peers/impl.js';
import { implServer } from '../peers/servers.js';
import { interopSuite } from '../peers/suite.js';

interopSuite({ title: `server ${IMPL_NAME} × client chromium`, server: implServer, client: chromiumClient });
