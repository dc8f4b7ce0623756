import type { Envelope } from './envelope.js';
import type { TopicHub, TopicSocket } from './topic-hub.js';
import {
  PubSubV1Error,
  decodePublishFrame,
  errorReply,
  parseRequest,
  publishedReply,
  subscribedReply,
  unsubscribedReply,
  type V1ErrorCode,
  type V1Publish,
  type V1Request,
} from './subprotocol.js';

/** `new WebSocketServer({ pubsub })`: how the server speaks sockwire.pubsub.v1. */
export interface PubSubV1Options {
  /**
   * Whether `socket` may subscribe to or publish on `topic`; returns or resolves a boolean (a
   * throw or rejection counts as false). Default: everything is allowed.
   */
  authorize?: ((socket: never, op: 'subscribe' | 'publish', topic: string) => boolean | Promise<boolean>) | undefined;
  /** Subscriptions per socket. Default 1,000. */
  maxTopics?: number | undefined;
}

/** What the session needs of a server-side socket (the `ws` face's WebSocket has it). */
export interface V1Socket extends TopicSocket {
  /** The connection's hook for each whole message, before any `'message'` event: the session takes it over. */
  onMessage(data: Buffer, isBinary: boolean): void;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/**
 * Serves sockwire.pubsub.v1 on one socket (docs/pubsub-v1.md): requests are taken in arrival
 * order (an asynchronous `authorize` cannot reorder two publishes), replies and messages go out
 * through the same socket, so a 'subscribed' reply sits exactly between recovered and live
 * messages. A frame that is not v1 at all closes the connection with 1002.
 */
export function servePubSubV1(socket: V1Socket, hub: TopicHub, options: PubSubV1Options = {}): void {
  hub.speaksV1(socket);
  const maxTopics = options.maxTopics ?? 1000;
  const authorize = options.authorize as ((socket: V1Socket, op: 'subscribe' | 'publish', topic: string) => boolean | Promise<boolean>) | undefined;
  // Requests wait only for earlier requests' authorisation, never for their recovery.
  let queue: Promise<void> = Promise.resolve();
  let broken = false;

  const reply = (text: string): void => {
    if (socket.readyState === 1) socket.send(text);
  };
  const fail = (id: number, topic: string | null, code: V1ErrorCode, message: string): void => reply(errorReply(id, topic, code, message));

  const allowed = (op: 'subscribe' | 'publish', topic: string): boolean | Promise<boolean> => {
    if (!authorize) return true;
    try {
      const verdict = authorize(socket, op, topic);
      return typeof verdict === 'boolean' ? verdict : Promise.resolve(verdict).then((v) => v === true, () => false);
    } catch {
      return false;
    }
  };

  /** Runs `then` once `op` on `topic` is allowed, after every earlier request's verdict. */
  const afterVerdict = (op: 'subscribe' | 'publish', topic: string, id: number, then: () => void): void => {
    const verdict = allowed(op, topic);
    const act = (ok: boolean): void => {
      if (socket.readyState !== 1) return;
      if (ok) then();
      else fail(id, topic, 'forbidden', `${op} on this topic is not allowed`);
    };
    queue = queue.then(() => verdict).then(act, () => act(false));
  };

  const subscribe = (req: Extract<V1Request, { op: 'subscribe' }>): void => {
    afterVerdict('subscribe', req.topic, req.id, () => {
      if (!hub.isSubscribed(socket, req.topic) && hub.topicsOf(socket).length >= maxTopics) {
        fail(req.id, req.topic, 'limit', `at most ${maxTopics} subscriptions per connection`);
        return;
      }
      void hub
        .recover(socket, req.topic, { since: req.since, beforeLive: (result) => reply(subscribedReply(req.id, req.topic, result)) })
        .then((result) => {
          if (result.status !== 'failed' || result.reason === 'closed') return;
          if (result.reason === 'already-subscribed') fail(req.id, req.topic, 'already-subscribed', 'already subscribed (give since to catch up)');
          else fail(req.id, req.topic, 'unavailable', `history could not be read: ${result.error?.message ?? 'broker unavailable'}`);
        });
    });
  };

  const publish = (pub: V1Publish): void => {
    afterVerdict('publish', pub.topic, pub.id, () => {
      // The payload is a view of the received frame: the copy keeps it independent of it.
      const data = pub.binary ? Buffer.from(pub.payload) : pub.payload.toString();
      if (!hub.broker.historyOf?.(pub.topic)) {
        hub.publish(pub.topic, data, { binary: pub.binary });
        if (pub.id !== 0) reply(publishedReply(pub.id, pub.topic, null));
        return;
      }
      const envelope: Envelope = { data, binary: pub.binary, compress: undefined, origin: hub.id };
      hub.append(pub.topic, envelope).then(
        (position) => pub.id !== 0 && reply(publishedReply(pub.id, pub.topic, position)),
        (err: Error) => pub.id !== 0 && fail(pub.id, pub.topic, 'dropped', `not published: ${err.message}`),
      );
    });
  };

  // The session is the only consumer of the client's frames: every one is a v1 request or
  // publish (nothing else may be sent on a v1 connection), answered here. Taking the hook the
  // 'message' event is emitted from keeps them from application listeners, which could only
  // misread them (and would see them as Buffers or not depending on binaryType).
  socket.onMessage = (bytes: Buffer, isBinary: boolean): void => {
    if (broken) return;
    try {
      if (isBinary) publish(decodePublishFrame(bytes));
      else {
        const req = parseRequest(bytes.toString());
        if (req.op === 'subscribe') subscribe(req);
        else {
          // Behind earlier requests' verdicts, so it cannot overtake a subscribe still pending.
          queue = queue.then(() => {
            hub.unsubscribe(socket, req.topic);
            reply(unsubscribedReply(req.id, req.topic));
          });
        }
      }
    } catch (err) {
      if (!(err instanceof PubSubV1Error)) throw err;
      if (err.fatal) {
        broken = true;
        socket.close(1002, 'not a sockwire.pubsub.v1 frame');
      } else fail(err.id, err.topic, err.code, err.message);
    }
  };
}
