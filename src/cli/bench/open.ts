/**
 * Opens one raw WebSocket connection: a plain TCP or TLS socket, sockwire's own upgrade request
 * and response check, and nothing else. What comes after the handshake is the caller's business,
 * so the load generator pays for no framing layer it does not use.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { WsTarget } from '../../client/url.js';
import { HeadParser, buildUpgradeRequest, generateKey, validateUpgradeResponse } from '../../handshake/index.js';

export interface OpenOptions {
  insecure: boolean;
  timeoutMs: number;
}

export interface RawConnection {
  socket: net.Socket;
  /** Bytes that arrived behind the 101 response (frames the server sent straight away). */
  rest: Buffer;
}

export function openRaw(target: WsTarget, opts: OpenOptions): Promise<RawConnection> {
  const key = generateKey();
  const request = buildUpgradeRequest({ host: target.hostHeader, path: target.path, key });
  return new Promise((resolve, reject) => {
    const socket = target.secure
      ? tls.connect({
          host: target.hostname,
          port: target.port,
          rejectUnauthorized: !opts.insecure,
          ...(net.isIP(target.hostname) ? {} : { servername: target.hostname }),
        })
      : net.connect({ host: target.hostname, port: target.port });
    socket.setNoDelay(true);
    const parser = new HeadParser('response');
    const fail = (err: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    const timer = setTimeout(() => fail(new Error(`no handshake response within ${opts.timeoutMs} ms`)), opts.timeoutMs);
    const onData = (chunk: Buffer): void => {
      try {
        const head = parser.push(chunk);
        if (head === null) return;
        validateUpgradeResponse(head, { key, protocols: [], extensionsOffered: [] });
        clearTimeout(timer);
        socket.off('data', onData);
        socket.off('error', fail);
        socket.off('close', onClose);
        // Paused until the caller has its own listener, so no frame can slip past unseen.
        socket.pause();
        resolve({ socket, rest: head.rest });
      } catch (err) {
        fail(err as Error);
      }
    };
    const onClose = (): void => fail(new Error('the server closed the connection during the handshake'));
    socket.on('data', onData);
    socket.on('error', fail);
    socket.on('close', onClose);
    socket.once(target.secure ? 'secureConnect' : 'connect', () => socket.write(request));
  });
}
