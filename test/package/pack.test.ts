import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// What a user gets from `npm install sockwire`: the tarball `npm pack` makes from this
// checkout, installed into a fresh project that knows nothing of this repository.
// `npm test` builds dist/ first; packing uses --ignore-scripts so prepack does not rebuild here.
const ROOT = new URL('../../', import.meta.url).pathname;
const TSC = join(ROOT, 'node_modules/.bin/tsc');

let work: string;
let project: string;
let files: string[];

function run(cmd: string, args: string[], cwd: string, timeout = 30_000): SpawnSyncReturns<string> {
  const result = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, npm_config_update_notifier: 'false' } });
  if (result.error) throw result.error;
  return result;
}

function mustRun(cmd: string, args: string[], cwd: string): string {
  const result = run(cmd, args, cwd);
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${result.status}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist/index.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  work = mkdtempSync(join(tmpdir(), 'sockwire-pack-'));
  const packed = JSON.parse(mustRun('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], ROOT)) as {
    filename: string;
    files: { path: string }[];
  }[];
  files = packed[0]!.files.map((f) => f.path).sort();

  project = join(work, 'consumer');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  // The package has no dependencies, so this never needs the network.
  mustRun('npm', ['install', '--offline', '--no-audit', '--no-fund', join(work, packed[0]!.filename)], project);
}, 60_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the npm package', () => {
  it('ships dist/, README.md, LICENSE and package.json only', () => {
    for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/protocol/index.js', 'dist/protocol/index.d.ts', 'dist/cli/bin.js', 'README.md', 'LICENSE', 'package.json']) {
      expect(files, f).toContain(f);
    }
    const outside = files.filter((f) => !f.startsWith('dist/') && !['README.md', 'LICENSE', 'package.json'].includes(f));
    expect(outside).toEqual([]);
    // The repository's test/, bench/, src/, examples/ (at the top or compiled into dist/) stay home;
    // dist/cli/bench/ is the shipped `sockwire bench` command, not the benchmark suite.
    expect(files.filter((f) => /^(dist\/)?(test|bench|src|examples)\//.test(f))).toEqual([]);
    // Source maps would point at src/, which is not shipped.
    expect(files.filter((f) => f.endsWith('.map') || f.endsWith('.tsbuildinfo'))).toEqual([]);
  });

  it('has no stale build output: every module comes from a current source file, with its types', () => {
    const modules = files.filter((f) => f.endsWith('.js'));
    expect(modules.length).toBeGreaterThan(10);
    for (const js of modules) {
      const base = js.slice('dist/'.length, -'.js'.length);
      expect(existsSync(join(ROOT, 'src', `${base}.ts`)), `${js} has no src/${base}.ts: stale build output, delete dist/ and run npm run build`).toBe(true);
      expect(files, `${js} has no declarations`).toContain(`dist/${base}.d.ts`);
    }
  });

  it('type-checks a TypeScript consumer of sockwire and sockwire/protocol (NodeNext)', () => {
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          // No DOM: the shipped types must stand on @types/node alone.
          lib: ['ES2022'],
          strict: true,
          exactOptionalPropertyTypes: true,
          noEmit: true,
          typeRoots: [join(ROOT, 'node_modules/@types')],
          types: ['node'],
        },
        files: ['consumer.ts'],
      }),
    );
    writeFileSync(
      join(project, 'consumer.ts'),
      `import WebSocketDefault, { WebSocket, WebSocketServer, CloseCode, ProtocolError, HandshakeError, type ServerOptions, type ClientOptions } from 'sockwire';
import { Protocol, ReadyState, createDeflateCodec, type ProtocolHandler, type CloseInfo, type DeflateAgreement } from 'sockwire/protocol';

const options: ServerOptions = { port: 0, maxPayload: 1024, authenticate: async () => true };
const wss: WebSocketServer = new WebSocketServer(options);
wss.on('connection', (socket: WebSocket) => {
  socket.send('hi', { binary: false });
  const ok: boolean = socket.writableNeedDrain;
  socket.close(CloseCode.GoingAway, String(ok));
});
const client: WebSocket = new WebSocketDefault('ws://localhost:1', { headers: { a: 'b' } } satisfies ClientOptions);
client.onmessage = (event) => void event.data;
const handler: ProtocolHandler = { write() {}, onClose(info: CloseInfo) { void info.wasClean; } };
const core = new Protocol({ role: 'client' }, handler);
const agreed: DeflateAgreement = { serverNoContextTakeover: false, clientNoContextTakeover: true, serverMaxWindowBits: 15, clientMaxWindowBits: 12 };
const compressing = new Protocol({ role: 'server', codec: createDeflateCodec('server', agreed, { threshold: 256 }) }, handler);
void compressing;
const open: boolean = core.readyState === ReadyState.OPEN;
const codes: number[] = [new ProtocolError(1002, 'x').closeCode, new HandshakeError(400, 'y').status];
void [open, codes];
// @ts-expect-error: the role is 'client' | 'server', which only holds if the types are really there
new Protocol({ role: 'peer' }, handler);
`,
    );
    // skipLibCheck stays off so that our .d.ts files are checked too (e.g. for DOM-only types).
    const result = run(TSC, ['-p', 'tsconfig.json'], project, 55_000);
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  }, 60_000);

  it('runs an ESM import with a real echo round trip', () => {
    writeFileSync(
      join(project, 'esm.js'),
      `import { WebSocketServer, WebSocket } from 'sockwire';
const wss = new WebSocketServer({ port: 0 }, () => {
  const client = new WebSocket('ws://127.0.0.1:' + wss.address().port);
  client.on('open', () => client.send('round trip'));
  client.on('message', (data, isBinary) => {
    console.log('esm echo: ' + data + ' binary=' + isBinary);
    client.close(1000);
  });
  client.on('close', (code) => wss.close(() => console.log('esm closed ' + code)));
});
wss.on('connection', (s) => s.on('message', (d, isBinary) => s.send(d, { binary: isBinary })));
`,
    );
    const result = run(process.execPath, ['esm.js'], project);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('esm echo: round trip binary=false\nesm closed 1000\n');
    expect(result.status).toBe(0);
  });

  it('works from CommonJS through require(esm)', () => {
    writeFileSync(
      join(project, 'cjs.cjs'),
      `const { WebSocketServer, WebSocket } = require('sockwire');
const { Protocol } = require('sockwire/protocol');
console.log('protocol: ' + typeof Protocol);
const wss = new WebSocketServer({ port: 0 }, () => {
  const client = new WebSocket('ws://127.0.0.1:' + wss.address().port);
  client.onopen = () => client.send('from require');
  client.onmessage = (event) => {
    console.log('cjs echo: ' + event.data);
    client.close();
  };
  client.onclose = () => wss.close();
});
wss.on('connection', (s) => s.on('message', (d, isBinary) => s.send(d, { binary: isBinary })));
`,
    );
    const result = run(process.execPath, ['cjs.cjs'], project);
    expect(result.stdout).toBe('protocol: function\ncjs echo: from require\n');
    expect(result.status).toBe(0);
  });

  it('installs a working `sockwire` command', () => {
    // --no: never fall back to fetching a package of that name from the registry.
    const result = run('npx', ['--no', '--', 'sockwire', '--help'], project);
    expect(result.stdout).toMatch(/^Usage: sockwire <command>/);
    expect(result.stdout).toContain('connect URL');
    expect(result.status).toBe(0);
  });
});
