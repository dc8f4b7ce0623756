/**
 * RFC 6455 § 4.1, client requirement 2: "If the client already has a WebSocket connection
 * to the remote host … identified by /host/ and /port/ pair, … the client MUST wait until
 * that connection has been established or for that connection to have failed. There MUST
 * be no more than one connection in a CONNECTING state." Browsers do this (it limits what
 * a page can do to a server with a burst of handshakes); undici does not.
 *
 * Attempts are keyed by host name and port as written in the URL (lower-cased by the URL
 * parser), not by resolved address: resolving first would mean resolving twice, and the RFC
 * allows keying by name where the address is not known in advance.
 */

/** One connection attempt waiting for, or holding, its host's turn. */
export interface Turn {
  /** Called when the attempt may open its transport (at once when no other is connecting). */
  start(): void;
}

const queues = new Map<string, Turn[]>();

/**
 * Asks for `key`'s turn: `turn.start()` runs now if no attempt to that host is connecting,
 * otherwise once every attempt queued before it has finished (see `finish`).
 */
export function requestTurn(key: string, turn: Turn): void {
  const queue = queues.get(key);
  if (queue === undefined) {
    queues.set(key, [turn]);
    turn.start();
    return;
  }
  queue.push(turn);
}

/**
 * The attempt is over — established, failed, or abandoned before it started. The next one
 * waiting for the same host starts, after the current task's synchronous work (the caller
 * may be inside the finished connection's event).
 */
export function finish(key: string, turn: Turn): void {
  const queue = queues.get(key);
  if (queue === undefined) return;
  const index = queue.indexOf(turn);
  if (index === -1) return;
  queue.splice(index, 1);
  if (index !== 0) return;
  const next = queue[0];
  if (next === undefined) {
    queues.delete(key);
    return;
  }
  queueMicrotask(() => {
    // It may have been abandoned meanwhile (and the one after it started instead).
    if (queues.get(key)?.[0] === next) next.start();
  });
}
