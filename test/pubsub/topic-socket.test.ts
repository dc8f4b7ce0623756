// `TopicSocket` is public: a socket written elsewhere (before `sharedBackedUp` existed) must
// still type-check and work with a TopicHub, the slow policy testing its Duplex instead.
// (This file is type-checked with the rest: an object literal without `sharedBackedUp` below
// is a compile error if the member is required.)
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { PreparedMessage } from '../../src/connection/prepared.js';
import { TopicHub, type TopicSocket } from '../../src/pubsub/topic-hub.js';

/** A minimal implementer: counts what it is given; its Duplex is never read, so writes back up. */
function plainSocket(): TopicSocket & { given: PreparedMessage[]; duplex: PassThrough } {
  const duplex = new PassThrough({ highWaterMark: 16 });
  const given: PreparedMessage[] = [];
  return {
    readyState: 1,
    socket: duplex,
    duplex,
    given,
    sendShared(message: PreparedMessage) {
      given.push(message);
      return true;
    },
    terminate() {},
    once() {
      return undefined;
    },
  };
}

describe('TopicSocket without sharedBackedUp', () => {
  it('is delivered to while its Duplex drains, and skipped (slow: skip) once the Duplex needs a drain', () => {
    const hub = new TopicHub({ slow: 'skip' });
    const s = plainSocket();
    hub.subscribe(s, 'room');
    expect(hub.publish('room', 'one')).toBe(1);
    expect(s.given).toHaveLength(1);
    // Nobody reads the PassThrough: past its high-water mark it needs a drain.
    s.duplex.write(Buffer.alloc(64));
    expect(s.duplex.writableNeedDrain).toBe(true);
    expect(hub.publish('room', 'two')).toBe(0);
    expect(s.given).toHaveLength(1);
    expect(hub.stats('room')).toMatchObject({ delivered: 1, skipped: 1 });
    // 'queue' ignores backpressure.
    expect(hub.publish('room', 'three', { slow: 'queue' })).toBe(1);
    expect(s.given).toHaveLength(2);
  });
});
