// Scenario runner for the WHATWG WebSocket API, shared by Chromium (served to the page as a
// classic script) and by Node's built-in WebSocket (imported by builtin_client.js).
// Plain JS without import/export so the very same file works as a classic script and as ESM;
// it only defines globalThis.runScenario. The scenario language is test/peers/scenario.ts.
// `WebSocketImpl` lets an in-process implementation be driven through its browser-style API.
globalThis.runScenario = async function runScenario(url, scenario, WebSocketImpl) {
  const WS = WebSocketImpl ?? globalThis.WebSocket;
  const SHORT_TEXT = 256;
  const timeoutMs = scenario.timeoutMs ?? 10000;
  const encoder = new TextEncoder();
  const result = { protocol: '', extensions: '', messages: [], pongs: [], close: null };
  const pending = [];
  let changed = () => {};

  const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
  const sha256 = async (bytes) => hex(await crypto.subtle.digest('SHA-256', bytes));

  function makePayload(spec) {
    if (spec.kind === 'text') return spec.text.repeat(spec.repeat ?? 1);
    const out = new Uint8Array(spec.seq);
    const start = spec.start ?? 0;
    for (let i = 0; i < spec.seq; i++) out[i] = (start + i) & 0xff;
    return out;
  }

  // Resolves when cond() holds, re-checked on every socket event; rejects after timeoutMs.
  function until(cond, what) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      const check = () => {
        if (!cond()) return;
        clearTimeout(timer);
        changed = () => {};
        resolve();
      };
      changed = check;
      check();
    });
  }

  let ws;
  let closeEvent = null;
  let opened = false;
  let failed = null;
  try {
    ws = scenario.protocols ? new WS(url, scenario.protocols) : new WS(url);
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => {
      opened = true;
      changed();
    };
    ws.onerror = () => {
      failed = 'error event';
      changed();
    };
    ws.onclose = (ev) => {
      closeEvent = { code: ev.code, reason: ev.reason, wasClean: ev.wasClean };
      changed();
    };
    ws.onmessage = (ev) => {
      // Hash in arrival order even though digest() is async: keep the promises in sequence.
      pending.push(
        (async () => {
          if (typeof ev.data === 'string') {
            const bytes = encoder.encode(ev.data);
            const rec = { type: 'text', length: bytes.length, sha256: await sha256(bytes) };
            if (ev.data.length <= SHORT_TEXT) rec.text = ev.data;
            return rec;
          }
          return { type: 'binary', length: ev.data.byteLength, sha256: await sha256(ev.data) };
        })().then((rec) => {
          changed();
          return rec;
        }),
      );
      changed();
    };
    await until(() => opened || closeEvent !== null, 'open');
    if (!opened) throw new Error(`connection failed: ${failed ?? 'closed'} ${JSON.stringify(closeEvent)}`);
    result.protocol = ws.protocol;
    result.extensions = ws.extensions;

    for (const step of scenario.steps) {
      if (step.op === 'send') {
        ws.send(makePayload(step.payload));
      } else if (step.op === 'expect') {
        await until(() => pending.length >= step.count || closeEvent !== null, `${step.count} messages`);
        if (pending.length < step.count) {
          throw new Error(`connection closed after ${pending.length} of ${step.count} messages`);
        }
      } else if (step.op === 'close') {
        if (step.code === undefined) ws.close();
        else ws.close(step.code, step.reason ?? '');
        await until(() => closeEvent !== null, 'close');
        result.close = closeEvent;
      } else if (step.op === 'waitClose') {
        await until(() => closeEvent !== null, 'server close');
        result.close = closeEvent;
      } else if (step.op === 'ping') {
        throw new Error('the WHATWG WebSocket API cannot send pings');
      } else {
        throw new Error(`unknown step ${JSON.stringify(step)}`);
      }
    }
  } catch (err) {
    result.error = String(err && err.message ? err.message : err);
  } finally {
    if (ws && closeEvent === null) {
      ws.close();
      await until(() => closeEvent !== null, 'cleanup close').catch(() => {});
    }
  }
  result.messages = await Promise.all(pending);
  return result;
};
