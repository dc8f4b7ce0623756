import { createRequire } from 'node:module';

// ws's own frame parser, to check that sockwire reports a bad frame the way ws does. ws's
// package exports do not reach lib/receiver.js, but its main export carries the class.
const require = createRequire(import.meta.url);
const ws = require('ws') as {
  Receiver: new (options: Record<string, unknown>) => WsReceiver;
  PerMessageDeflate: new (options: object, isServer: boolean, maxPayload: number) => { accept(offers: object[]): unknown };
};

interface WsReceiver {
  on(event: 'error', listener: (err: Error) => void): void;
  write(chunk: Buffer, cb: (err?: Error | null) => void): void;
}

/** What ws reports for a bad stream: the class of its error, its `code` and its close status. */
export interface WsVerdict {
  rangeError: boolean;
  code: string | undefined;
  status: number | undefined;
}

export interface WsReceiverOptions {
  /** Whose frames ws receives: a server receives masked frames. */
  isServer: boolean;
  maxPayload?: number;
  maxFragments?: number;
  /** Negotiate permessage-deflate (RSV1 allowed, compressed frames inflated). */
  deflate?: boolean;
}

/**
 * Feeds `bytes` to a ws Receiver and resolves with the error it raises (null if it accepts
 * them all). ws keeps the close status under a private symbol (`kStatusCode`), found here by
 * its description.
 */
export function wsVerdict(bytes: Buffer | Buffer[], options: WsReceiverOptions): Promise<WsVerdict | null> {
  const extensions: Record<string, unknown> = {};
  if (options.deflate) {
    const pmd = new ws.PerMessageDeflate({}, options.isServer, options.maxPayload ?? 0);
    pmd.accept([{}]);
    extensions['permessage-deflate'] = pmd;
  }
  const receiver = new ws.Receiver({
    isServer: options.isServer,
    maxPayload: options.maxPayload ?? 0,
    maxFragments: options.maxFragments ?? 0,
    extensions,
    allowSynchronousEvents: true,
  });
  return new Promise((resolve) => {
    // Writable reports a failed write to its callback (and then as 'error', ignored here).
    receiver.on('error', () => {});
    const chunks = Array.isArray(bytes) ? bytes : [bytes];
    chunks.forEach((chunk, i) => {
      receiver.write(chunk, (err) => {
        if (err) resolve(verdictOf(err));
        else if (i === chunks.length - 1) resolve(null);
      });
    });
  });
}

function verdictOf(err: Error): WsVerdict {
  const status = Object.getOwnPropertySymbols(err).find((s) => s.description === 'status-code');
  const fields = err as unknown as Record<string | symbol, unknown>;
  return {
    rangeError: err instanceof RangeError,
    code: typeof fields.code === 'string' ? fields.code : undefined,
    status: status === undefined ? undefined : (fields[status] as number),
  };
}
