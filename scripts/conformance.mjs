// `npm run conformance`: the full-size conformance run of sockwire against its own suite:
// the server (plain and with permessage-deflate) and the client, reports in conformance-report/.
// Exits non-zero on any FAILED or NON-STRICT: sockwire holds itself to strict.
import { WebSocket, WebSocketServer } from '../dist/index.js';
import { runServerSuite, writeReports, startClientFuzzer, runClientDriver } from '../dist/conformance/index.js';

const quick = process.argv.includes('--quick');
const out = 'conformance-report';

async function echoServer(perMessageDeflate) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate, maxPayload: 64 * 1024 * 1024, heartbeat: 0 });
  await new Promise((r) => wss.once('listening', r));
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  return wss;
}

function summarize(name, result) {
  const s = result.summary;
  const bad = result.cases.filter((c) => c.verdict === 'FAILED' || c.verdict === 'NON-STRICT');
  console.log(`${name}: ${result.cases.length} cases — OK ${s.OK}, NON-STRICT ${s['NON-STRICT']}, FAILED ${s.FAILED}, INFORMATIONAL ${s.INFORMATIONAL}, UNIMPLEMENTED ${s.UNIMPLEMENTED}`);
  for (const c of bad) console.log(`  ${c.id} ${c.verdict}: ${c.reason}`);
  return bad.length;
}

let bad = 0;
for (const [name, deflate, cases] of [['server', false, undefined], ['server-deflate', true, ['12', '13']]]) {
  const wss = await echoServer(deflate);
  const url = `ws://127.0.0.1:${wss.address().port}/`;
  const result = await runServerSuite({ url, quick, agent: 'sockwire', ...(cases ? { cases } : { exclude: ['12', '13'] }) });
  await writeReports(result, `${out}/${name}`);
  bad += summarize(name, result);
  await new Promise((r) => wss.close(r));
}

const fuzzer = await startClientFuzzer({ port: 0, quick });
try {
  await runClientDriver({ url: `ws://127.0.0.1:${fuzzer.port}`, agent: 'sockwire', WebSocket });
  const result = fuzzer.results('sockwire');
  await writeReports(result, `${out}/client`);
  bad += summarize('client', result);
} finally {
  await fuzzer.close();
}
console.log(`reports in ${out}/{server,server-deflate,client}/index.html`);
process.exitCode = bad === 0 ? 0 : 1;
