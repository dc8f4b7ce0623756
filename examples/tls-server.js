// wss:// without a reverse proxy: the standalone server speaks TLS itself.
// The certificate is self-signed and made at run time, so the client must be told to trust
// it (`ca`) — exactly what a private CA or a test setup does; never `rejectUnauthorized: false`.
// Run: node examples/tls-server.js [port] [--once]   (needs the `openssl` command)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer, WebSocket } from 'sockwire';

const once = process.argv.includes('--once');
const port = Number(process.argv.slice(2).find((a) => !a.startsWith('--')) ?? 8443);

function selfSignedCertificate() {
  const dir = mkdtempSync(join(tmpdir(), 'sockwire-tls-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    return { cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) };
  } catch (err) {
    const why = err.code === 'ENOENT' ? 'the `openssl` command was not found; install OpenSSL' : err.message;
    console.error(`cannot make a self-signed certificate: ${why}`);
    process.exit(1);
  } finally {
    // The key lives on only in this process's memory.
    rmSync(dir, { recursive: true, force: true });
  }
}

const { cert, key } = selfSignedCertificate();

const wss = new WebSocketServer({ port, tls: { cert, key } }, () => {
  const url = `wss://localhost:${wss.address().port}`;
  console.log(`tls server on ${url}`);
  if (once) selfTest(url);
});

wss.on('connection', (socket, req) => {
  socket.send(`hello over ${req.socket.getProtocol?.() ?? 'TLS'}`);
});

function selfTest(url) {
  // `ca` makes Node trust our certificate for this connection only; the hostname is still checked.
  const client = new WebSocket(url, { ca: cert });
  client.on('message', (data) => {
    console.log(`client got: ${data}`);
    client.close(1000, 'bye');
  });
  client.on('error', (err) => console.log(`client error: ${err.message}`));
  client.on('close', (code) => {
    console.log(`closed: ${code}`);
    wss.close();
  });
}
