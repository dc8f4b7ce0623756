// ws under test, in two builds: pure JS and with its optional native addons.
import { createRequire } from 'node:module';
import { startWsCompatibleServer, startWsCompatibleClient } from './_ws-compatible.mjs';

const require = createRequire(import.meta.url);

const loadedAddons = () =>
  Object.keys(require.cache).filter((p) => /[\\/](bufferutil|utf-8-validate)[\\/]/.test(p) && p.endsWith('.node'));

export function wsAdapter({ native }) {
  const load = () => require('ws');
  return {
    description: native ? 'ws with bufferutil + utf-8-validate' : 'ws, pure JS (WS_NO_BUFFER_UTIL, WS_NO_UTF_8_VALIDATE)',
    // null deletes the variable so a value inherited from the shell cannot leak in.
    env: native
      ? { WS_NO_BUFFER_UTIL: null, WS_NO_UTF_8_VALIDATE: null }
      : { WS_NO_BUFFER_UTIL: '1', WS_NO_UTF_8_VALIDATE: '1' },

    async probe() {
      const ws = load();
      const version = require('ws/package.json').version;
      const addons = loadedAddons();
      const info = [`ws ${version}`];
      const usesBufferUtil = addons.some((p) => p.includes('bufferutil'));
      // ws ≥ 8.17 prefers Node's own buffer.isUtf8 (native, Node ≥ 18.14) over
      // utf-8-validate and never requires the addon then; report, don't pretend.
      const { isUtf8 } = require('node:buffer');
      const utf8Path = typeof isUtf8 === 'function'
        ? 'UTF-8 validation: node:buffer isUtf8 (native; ws skips utf-8-validate when it exists)'
        : `UTF-8 validation: ${addons.some((p) => p.includes('utf-8-validate')) ? 'utf-8-validate addon' : 'JS'}`;
      if (native) {
        if (!usesBufferUtil) return { ok: false, reason: 'ws did not load bufferutil (is it installed and built?)' };
        const bu = require('bufferutil');
        const uv = require('utf-8-validate');
        const nativeFn = (f) => /\[native code\]/.test(String(f));
        if (!nativeFn(bu.mask) || !nativeFn(uv)) return { ok: false, reason: 'bufferutil/utf-8-validate resolved to their JS fallbacks' };
        info.push(`bufferutil ${require('bufferutil/package.json').version} loaded by ws (native: ${addons.find((p) => p.includes('bufferutil'))})`);
        info.push(`utf-8-validate ${require('utf-8-validate/package.json').version} loads (native)`);
      } else {
        if (usesBufferUtil) return { ok: false, reason: 'ws loaded bufferutil despite WS_NO_BUFFER_UTIL' };
        info.push('masking: pure JS (bufferutil not loaded)');
      }
      info.push(utf8Path);
      void ws;
      return { ok: true, info };
    },

    createServer: (opts) => startWsCompatibleServer(load(), opts),
    createClient: (opts) => startWsCompatibleClient(load(), opts),
  };
}
