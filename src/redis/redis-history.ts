import { crypto } from '../builtins.js';
import type { HistoryPage, PositionedEnvelope } from '../pubsub/broker.js';
import { decodeEnvelope, encodeEnvelope, withPosition, type Envelope } from '../pubsub/envelope.js';
import { newEpoch, type HistoryPolicy, type Position } from '../pubsub/history.js';
import { keySlot } from './cluster-slot.js';

/**
 * History in Redis Streams (issue 13): one stream per topic (`<prefix>h:<topic>`), entry ids
 * `<offset>-0`, fields `m` (the envelope, position included) and `t` (Redis time, ms), trimmed
 * with `MAXLEN ~ size` and expired `ttl` ms after the last publish; beside it a hash
 * (`<prefix>m:<topic>`) with the epoch `e` and the last offset `o`. The hash is created when
 * absent with a fresh epoch, so a flushed or restarted Redis without persistence starts a new
 * epoch, and recovery from the old one answers "resync". (On a Redis Cluster both keys carry a
 * hash tag: `historyKeys`.) It has no expiry: the epoch must
 * outlive the messages, so a client that missed nothing still resumes after they expired.
 */

/**
 * Lua shared by both scripts: the topic's epoch, or a new life of its history when the meta hash
 * is gone (Redis flushed or restarted without persistence): the stale stream is dropped and the
 * offsets start again. `freshEpochArg` is the ARGV index carrying the epoch to start with.
 */
const ensureEpoch = (freshEpochArg: number): string => `local epoch = redis.call('HGET', KEYS[2], 'e')
if not epoch then
  epoch = ARGV[${freshEpochArg}]
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[2], 'e', epoch, 'o', 0)
end
`;

/**
 * Appends and publishes in one step, so the offset order is the publish order everywhere.
 * KEYS: stream, meta. ARGV: channel, envelope head (flags with the position bit), payload,
 * size, ttl ms (0: none), a fresh epoch (used only if the meta hash is absent).
 * Returns { offset (decimal string), epoch }.
 */
const APPEND = `
${ensureEpoch(6)}local offset = redis.call('HINCRBY', KEYS[2], 'o', 1)
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local pos = struct.pack('>I4I4B', math.floor(offset / 4294967296), offset % 4294967296, #epoch) .. epoch
local env = ARGV[2] .. pos .. ARGV[3]
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[4], string.format('%d-0', offset), 'm', env, 't', now)
if ARGV[5] ~= '0' then redis.call('PEXPIRE', KEYS[1], ARGV[5]) end
redis.call('PUBLISH', ARGV[1], env)
return { string.format('%d', offset), epoch }
`;

/**
 * Reads a page after an offset, leaving out what the policy no longer keeps (older than the
 * last `size`, or than `ttl`), so every broker answers the same. KEYS: stream, meta. ARGV:
 * after, limit, size, ttl ms (0: none), a fresh epoch (if the meta hash is absent).
 * Returns { epoch, top, envelope… } (top as a decimal string).
 */
const READ = `
${ensureEpoch(5)}local top = tonumber(redis.call('HGET', KEYS[2], 'o'))
local out = { epoch, string.format('%d', top) }
local limit = tonumber(ARGV[2])
if limit > 0 and top > 0 then
  local from = math.max(tonumber(ARGV[1]) + 1, top - tonumber(ARGV[3]) + 1)
  if from <= top then
    local oldest = 0
    if ARGV[4] ~= '0' then
      local t = redis.call('TIME')
      oldest = t[1] * 1000 + math.floor(t[2] / 1000) - tonumber(ARGV[4])
    end
    local entries = redis.call('XRANGE', KEYS[1], string.format('%d-0', from), '+', 'COUNT', limit)
    for _, e in ipairs(entries) do
      local f = e[2]
      if tonumber(f[4]) >= oldest then out[#out + 1] = f[2] end
    end
  end
end
return out
`;

/** What this needs of a `redis` client (v4 and v5 both have it). */
export interface RedisCommandClient {
  readonly isReady: boolean;
  sendCommand(args: Array<string | Buffer>, options?: object): Promise<unknown>;
}

/** Replies as Buffers: v5 reads `typeMapping` (36 is RESP's blob string), v4 `returnBuffers`. */
const BUFFERS = { typeMapping: { 36: Buffer }, returnBuffers: true };

/**
 * Clients on which a script of ours is known to be in Redis's script cache (an EVAL or EVALSHA
 * of it succeeded since the connection was last (re)established).
 */
const loadedOn = new WeakMap<RedisCommandClient, Set<string>>();

/**
 * Forgets what `client` knew of Redis's script cache: call it whenever the connection comes
 * back (a restarted Redis has an empty cache), so the next calls use EVAL again.
 */
export function forgetScripts(client: RedisCommandClient): void {
  loadedOn.delete(client);
}

class Script {
  readonly sha: string;
  constructor(readonly source: string) {
    this.sha = crypto.createHash('sha1').update(source).digest('hex');
  }

  /**
   * EVAL until a reply proves the script is cached for this client, then EVALSHA. Not
   * "EVALSHA, and EVAL on NOSCRIPT": calls are pipelined, so when a burst of EVALSHAs fails
   * with NOSCRIPT while another node loads the script, the later ones of the burst succeed and
   * the retried earlier ones land after them: one publisher's appends would get offsets out of
   * its publish order. EVALs pipelined in call order keep that order. NOSCRIPT is still retried
   * with EVAL (someone ran SCRIPT FLUSH without the connection dropping): that rare case can
   * reorder a burst in flight.
   */
  async run(client: RedisCommandClient, keys: string[], args: Array<string | Buffer>): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args];
    let known = loadedOn.get(client);
    if (!known?.has(this.sha)) {
      const reply = await client.sendCommand(['EVAL', this.source, ...tail], BUFFERS);
      if (!(known = loadedOn.get(client))) loadedOn.set(client, (known = new Set()));
      known.add(this.sha);
      return reply;
    }
    try {
      return await client.sendCommand(['EVALSHA', this.sha, ...tail], BUFFERS);
    } catch (err) {
      if (!/NOSCRIPT/.test((err as Error).message)) throw err;
      known.delete(this.sha);
      return client.sendCommand(['EVAL', this.source, ...tail], BUFFERS);
    }
  }
}

const appendScript = new Script(APPEND);
const readScript = new Script(READ);
/** Offsets go through Lua numbers (doubles): beyond 2^53 they are clamped. */
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** The Redis keys and channel of one topic's history. */
export interface HistoryKeys {
  stream: string;
  meta: string;
  channel: string;
}

/**
 * On a Redis Cluster the script's two keys must share a slot, so they carry a hash tag: the
 * channel's slot number (never empty, never a brace, whatever the topic holds), placed before
 * the part that tells them apart so a brace in the prefix still leaves them one tag.
 */
export function historyKeys(prefix: string, topic: string, cluster = false): HistoryKeys {
  const channel = prefix + topic;
  if (!cluster) return { stream: `${prefix}h:${topic}`, meta: `${prefix}m:${topic}`, channel };
  const tag = `${prefix}{${keySlot(channel)}}`;
  return { stream: `${tag}h:${topic}`, meta: `${tag}m:${topic}`, channel };
}

/** XADD + PUBLISH in one script; resolves with the position Redis gave the message. */
export async function appendToStream(client: RedisCommandClient, keys: HistoryKeys, envelope: Envelope, policy: HistoryPolicy): Promise<Position> {
  // The head with the position flag set, and no position: the script inserts it.
  const encoded = encodeEnvelope(withPosition(envelope, Buffer.alloc(0), { offset: 0n, epoch: '' }));
  const head = encoded.subarray(0, encoded.length - 9); // minus the 8-byte offset and the epoch length
  const payload = typeof envelope.data === 'string' ? Buffer.from(envelope.data) : envelope.data;
  const reply = (await appendScript.run(client, [keys.stream, keys.meta], [keys.channel, head, payload, String(policy.size), String(policy.ttl ?? 0), newEpoch()])) as [Buffer, Buffer];
  return { offset: BigInt(reply[0].toString()), epoch: reply[1].toString() };
}

/** One page of the stream after `after`, as positioned envelopes. */
export async function readStream(client: RedisCommandClient, keys: HistoryKeys, policy: HistoryPolicy, after: bigint, limit: number): Promise<HistoryPage> {
  const from = after > MAX_SAFE ? MAX_SAFE : after;
  const reply = (await readScript.run(client, [keys.stream, keys.meta], [from.toString(), String(limit), String(policy.size), String(policy.ttl ?? 0), newEpoch()])) as Buffer[];
  const epoch = reply[0]!.toString();
  const top = BigInt(reply[1]!.toString());
  const messages: PositionedEnvelope[] = [];
  for (let i = 2; i < reply.length; i++) {
    const envelope = decodeEnvelope(reply[i]!);
    if (!envelope.position) throw new Error('history entry without a position');
    messages.push(envelope as PositionedEnvelope);
  }
  return { epoch, top, messages };
}
