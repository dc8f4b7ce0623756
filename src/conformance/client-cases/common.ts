import type { AcceptOptions, ClientCase } from '../client-context.js';
import type { FrameSpec } from '../frames.js';
import { closeNormally, expectFailure, expectReplies, expectRepliesThenFailure, type Expected } from '../judge.js';

/** The server (us) sends `frames`; a conforming client echoes/answers with exactly `expect`, then closes when we close. */
export function clientEcho(id: string, group: string, description: string, frames: FrameSpec[], expect: Expected[], expectation?: string): ClientCase {
  return {
    id,
    group,
    description,
    expectation: expectation ?? 'The client echoes each message with its type (pongs come from the client library), then answers our close.',
    async run(t) {
      const s = await t.accept();
      if (frames.length) await s.sendMany(frames);
      await expectReplies(t, s, expect);
      return closeNormally(t, s);
    },
  };
}

/** The server sends something invalid; the client must fail the connection (close code in `codes`, or TCP close). */
export function clientFail(id: string, group: string, description: string, frames: FrameSpec[], codes: number[], what: string, before: Expected[] = []): ClientCase {
  return {
    id,
    group,
    description,
    expectation: `${before.length ? 'Echoes the valid message first, then fails' : 'Fails'} the connection: close code ${codes.join(' or ')} or a TCP close; nothing invalid is delivered to the application.`,
    async run(t) {
      const s = await t.accept();
      await s.sendMany(frames);
      return expectRepliesThenFailure(t, s, before, codes, what);
    },
  };
}

/** A broken handshake answer: the client must not open the connection (no message may get through). */
export function clientRejects(id: string, group: string, description: string, opts: AcceptOptions, what: string): ClientCase {
  return {
    id,
    group,
    description,
    expectation: 'The client refuses the connection: it closes TCP without delivering the message we send after the answer.',
    async run(t) {
      const s = await t.accept(opts);
      await s.send({ opcode: 1, payload: 'this must never reach the application' });
      return expectFailure(t, s, [1002], what);
    },
  };
}
