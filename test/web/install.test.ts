/**
 * `installGlobals()`: the web face as globals for Node versions without them (Node 20 has no
 * WebSocket), never replacing an existing global unless asked; and the `sockwire/web`
 * package entry point.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CloseEvent, installGlobals, MessageEvent, WebSocket, WebSocketError, WebSocketStream } from '../../src/web/index.js';
import { nextEvent, sockwireEcho } from './helpers.js';

const NAMES = ['WebSocket', 'CloseEvent', 'MessageEvent', 'WebSocketStream', 'WebSocketError'] as const;
const OURS: Record<(typeof NAMES)[number], unknown> = { WebSocket, CloseEvent, MessageEvent, WebSocketStream, WebSocketError };
const g = globalThis as Record<string, unknown>;

let saved: Map<string, PropertyDescriptor | undefined>;
beforeEach(() => {
  saved = new Map(NAMES.map((n) => [n, Object.getOwnPropertyDescriptor(globalThis, n)]));
});
afterEach(() => {
  for (const [name, desc] of saved) {
    if (desc === undefined) delete g[name];
    else Object.defineProperty(globalThis, name, desc);
  }
});

describe('installGlobals', () => {
  it('defines the missing ones as web globals are defined (writable, configurable, not enumerable), and only those', () => {
    const missing = NAMES.filter((n) => !(n in globalThis));
    const present = NAMES.filter((n) => n in globalThis);
    const before = new Map(present.map((n) => [n, g[n]]));
    expect(installGlobals()).toEqual(missing);
    for (const name of missing) {
      expect(Object.getOwnPropertyDescriptor(globalThis, name)).toEqual({ value: OURS[name], writable: true, enumerable: false, configurable: true });
    }
    for (const name of present) expect(g[name]).toBe(before.get(name)); // e.g. Node's own MessageEvent
    expect(installGlobals()).toEqual([]); // a second call changes nothing
  });

  it('replaces existing globals when asked', () => {
    const marker = function NotOurs(): void {};
    Object.defineProperty(globalThis, 'WebSocket', { value: marker, writable: true, configurable: true, enumerable: false });
    expect(installGlobals()).not.toContain('WebSocket');
    expect(g['WebSocket']).toBe(marker);
    expect(installGlobals({ overwrite: true })).toEqual([...NAMES]);
    for (const name of NAMES) expect(g[name]).toBe(OURS[name]);
  });

  it('the installed global WebSocket connects', async () => {
    installGlobals({ overwrite: true });
    const peer = await sockwireEcho();
    try {
      const Global = g['WebSocket'] as typeof WebSocket;
      const ws = new Global(peer.url);
      ws.onopen = () => ws.send('via the global');
      const e = await nextEvent<MessageEvent>(ws, 'message');
      expect(e).toBeInstanceOf(g['MessageEvent'] as typeof MessageEvent);
      expect(e.data).toBe('via the global');
      ws.close();
      await nextEvent(ws, 'close');
    } finally {
      await peer.close();
    }
  });
});

describe('the sockwire/web entry point', () => {
  const root = new URL('../../', import.meta.url).pathname;

  it('is declared in package.json exports (types and default, like ./protocol)', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
    expect(pkg.exports['./web']).toEqual({ types: './dist/web/index.d.ts', default: './dist/web/index.js' });
    expect(existsSync(join(root, 'src/web/index.ts'))).toBe(true); // what tsconfig.build compiles to dist/web/index.js
  });

  // `npm test` builds dist/ before running the tests; a bare `vitest run` may not have.
  it.skipIf(!existsSync(join(root, 'dist/web/index.js')))('resolves through the package name and exports the web face', () => {
    const script = "const m = await import('sockwire/web'); console.log(JSON.stringify(Object.keys(m).sort()));";
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 20_000 });
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual(['CloseEvent', 'MessageEvent', 'WebSocket', 'WebSocketError', 'WebSocketStream', 'installGlobals']);
  });
});
