/**
 * Runs a scenario in-process with a ws-API client class: `ws` as the reference client, or
 * the implementation under test. Mirrors browser_runner.js step for step.
 */
import { recordOf, makePayload, type CloseRecord, type MessageRecord, type Scenario, type ScenarioResult } from './scenario.js';
import { toBuffer, type CloseEventLike, type WsLikeClientCtor, type WsLikeSocket } from './ws-like.js';

export async function runWsLikeClient(Client: WsLikeClientCtor, url: string, scenario: Scenario): Promise<ScenarioResult> {
  const timeoutMs = scenario.timeoutMs ?? 10_000;
  const result: ScenarioResult = { protocol: '', extensions: '', messages: [], pongs: [], close: null };
  const messages: MessageRecord[] = result.messages;
  const pongs: string[] = [];
  let opened = false;
  let failure: Error | null = null;
  let closeArgs: { code: number; reason: string } | null = null;
  let closeEvent: CloseEventLike | null = null;
  let changed = (): void => {};

  const until = (cond: () => boolean, what: string): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      const check = (): void => {
        if (!cond()) return;
        clearTimeout(timer);
        changed = () => {};
        resolve();
      };
      changed = check;
      check();
    });
  const isClosed = (): boolean => closeArgs !== null && closeEvent !== null;
  const closeRecord = (): CloseRecord => ({
    code: closeArgs?.code ?? 0,
    reason: closeArgs?.reason ?? '',
    wasClean: closeEvent?.wasClean ?? false,
  });

  let socket: WsLikeSocket | null = null;
  try {
    socket = scenario.protocols ? new Client(url, scenario.protocols) : new Client(url);
    const ws = socket;
    ws.on('open', () => {
      opened = true;
      changed();
    });
    ws.on('error', (err: Error) => {
      failure = err;
      changed();
    });
    ws.on('message', (data: unknown, isBinary: boolean) => {
      const buf = toBuffer(data);
      messages.push(recordOf(isBinary ? buf : buf.toString('utf8')));
      changed();
    });
    ws.on('pong', (data: unknown) => {
      pongs.push(toBuffer(data).toString('utf8'));
      changed();
    });
    // Both close APIs: the EventEmitter one carries code/reason, the browser-style one wasClean.
    ws.on('close', (code: number, reason: unknown) => {
      closeArgs = { code, reason: toBuffer(reason).toString('utf8') };
      changed();
    });
    ws.onclose = (ev: CloseEventLike) => {
      closeEvent = ev;
      changed();
    };

    await until(() => opened || failure !== null || isClosed(), 'open');
    if (!opened) throw new Error(`connection failed: ${String(failure ?? JSON.stringify(closeRecord()))}`);
    result.protocol = ws.protocol;
    result.extensions = typeof ws.extensions === 'string' ? ws.extensions : Object.keys(ws.extensions).join(', ');

    for (const step of scenario.steps) {
      switch (step.op) {
        case 'send': {
          const payload = makePayload(step.payload);
          ws.send(payload, { binary: typeof payload !== 'string' });
          break;
        }
        case 'expect':
          await until(() => messages.length >= step.count || isClosed(), `${step.count} messages`);
          if (messages.length < step.count) {
            throw new Error(`connection closed after ${messages.length} of ${step.count} messages`);
          }
          break;
        case 'ping': {
          const seen = pongs.length;
          ws.ping(Buffer.from(step.data, 'utf8'));
          await until(() => pongs.length > seen || isClosed(), 'pong');
          const got = pongs[seen];
          if (got === undefined) throw new Error('closed before pong');
          result.pongs.push(got);
          break;
        }
        case 'close':
          if (step.code === undefined) ws.close();
          else ws.close(step.code, step.reason ?? '');
          await until(isClosed, 'close');
          result.close = closeRecord();
          break;
        case 'waitClose':
          await until(isClosed, 'server close');
          result.close = closeRecord();
          break;
      }
    }
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err);
  } finally {
    if (socket && !isClosed()) {
      socket.close();
      await until(isClosed, 'cleanup close').catch(() => {});
    }
  }
  return result;
}
