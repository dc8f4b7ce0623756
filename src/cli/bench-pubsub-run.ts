/**
 * The `bench --pubsub` run: TopicClients (sockwire/pubsub-client, over sockwire/web's WebSocket)
 * as publishers and subscribers, the publishing loop (window or --rate), chaos commands, the
 * drain, and the tallies the report is made from.
 */
import { TopicClient, TopicError, type TopicMessage, type WebSocketConstructor } from '../pubsub-client/topic-client.js';
import { WebSocket } from '../web/index.js';
import { Histogram } from './bench/histogram.js';
import { Pacer } from './bench/pacer.js';
import { ChaosRunner, type ChaosOutcome } from './bench-pubsub-chaos.js';
import type { PubsubBenchOptions } from './bench-pubsub-options.js';
import { StreamView, classifyMissing, readStamp, stampPayload } from './bench-pubsub-stamp.js';

const now = (): number => performance.timeOrigin + performance.now();

export interface PublisherTally {
  id: number;
  url: string;
  sent: number;
  acked: number;
  /** Rejected publishes by error code (disconnected, dropped, queue-full …). */
  failed: Record<string, number>;
  reconnects: number;
}

export interface SubscriberTally {
  id: number;
  url: string;
  topic: string;
  /** True when the topic has history on the server (its subscribe reply carried a position). */
  history: boolean;
  expected: number;
  received: number;
  lost: number;
  unconfirmed: number;
  gaps: number;
  duplicates: number;
  reorders: number;
  recovered: number;
  /** Payloads without a readable stamp (someone else publishing on the topic). */
  foreign: number;
  reconnects: number;
  resyncs: number;
  /** Gaps the client saw in the server's offsets and asked to have repaired. */
  repairs: number;
  /** Messages the client dropped itself as already received (by offset). */
  clientDuplicates: number;
}

export interface PubsubRunResult {
  startedAt: string;
  /** Seconds of publishing actually run. */
  durationS: number;
  /** Seconds spent waiting for the drain. */
  drainS: number;
  /** True when every subscriber had every acknowledged message at the end of the drain. */
  drained: boolean;
  publishers: PublisherTally[];
  subscribers: SubscriberTally[];
  /** Live deliveries during publishing (first arrivals, not recovered), for throughput. */
  liveDeliveries: number;
  /** Send-to-arrival of live messages. */
  latency: Histogram;
  chaos: ChaosOutcome[];
}

export interface PubsubRunHooks {
  signal?: AbortSignal;
  /** A line of progress or of chaos, as it happens. */
  onLine?(line: string): void;
}

/** A client could not connect or subscribe in time: nothing was measured. */
export class ConnectError extends Error {}

interface Pub {
  tally: PublisherTally;
  client: TopicClient;
  /** Per topic: the last sequence number sent (the stream's length). */
  seq: number[];
  /** Per topic: sequence numbers not (yet) acknowledged: failed or pending. */
  unacked: Array<Set<number>>;
  inflight: number;
  nextTopic: number;
}

interface Sub {
  tally: SubscriberTally;
  client: TopicClient;
  topicIndex: number;
  views: Map<number, StreamView>;
}

export async function runPubsubBench(opts: PubsubBenchOptions, hooks: PubsubRunHooks = {}): Promise<PubsubRunResult> {
  const line = hooks.onLine ?? (() => {});
  const WS = WebSocket as unknown as WebSocketConstructor;
  // Client i starts on URL i mod n and, when its connection drops, goes on to the next ones.
  const urlsFor = (i: number): string[] => opts.urls.map((_, k) => opts.urls[(i + k) % opts.urls.length]!);
  const clientOptions = { WebSocket: WS, backoff: { min: 50, max: 1000, jitter: 0.5 }, openTimeout: opts.connectTimeoutMs, maxQueuedPublishes: Math.max(1000, opts.window) };
  const latency = new Histogram();
  let measuring = false;
  let liveDeliveries = 0;
  let liveThisSecond = 0;

  const subs: Sub[] = [];
  for (let j = 0; j < opts.subscribers; j++) {
    const topicIndex = j % opts.topics.length;
    const urls = urlsFor(j);
    const client = new TopicClient(urls, clientOptions);
    const sub: Sub = {
      client,
      topicIndex,
      views: new Map(),
      tally: { id: j + 1, url: urls[0]!, topic: opts.topics[topicIndex]!, history: false, expected: 0, received: 0, lost: 0, unconfirmed: 0, gaps: 0, duplicates: 0, reorders: 0, recovered: 0, foreign: 0, reconnects: 0, resyncs: 0, repairs: 0, clientDuplicates: 0 },
    };
    client.on('open', (e) => void (e.reconnected && sub.tally.reconnects++));
    client.on('resync', () => void sub.tally.resyncs++);
    client.on('error', () => {}); // reconnection is the client's job; the tallies say what it cost
    subs.push(sub);
  }
  const onMessage = (sub: Sub) => (msg: TopicMessage): void => {
    const arrived = now();
    const data = typeof msg.data === 'string' ? new TextEncoder().encode(msg.data) : msg.data;
    const stamp = readStamp(data);
    if (stamp === null) {
      sub.tally.foreign++;
      return;
    }
    let view = sub.views.get(stamp.publisher);
    if (!view) sub.views.set(stamp.publisher, (view = new StreamView()));
    if (view.take(stamp.seq) === 'duplicate') return;
    if (msg.recovered) sub.tally.recovered++;
    else if (measuring) {
      latency.recordMs(arrived - stamp.sentMs);
      liveDeliveries++;
      liveThisSecond++;
    }
  };

  const pubs: Pub[] = [];
  for (let i = 0; i < opts.publishers; i++) {
    // Publishers start one URL further on, so with two servers a publisher and the subscribers
    // it feeds are not all on the same one.
    const urls = urlsFor(i + 1);
    const client = new TopicClient(urls, clientOptions);
    const pub: Pub = {
      client,
      seq: opts.topics.map(() => 0),
      unacked: opts.topics.map(() => new Set<number>()),
      inflight: 0,
      nextTopic: i % opts.topics.length,
      tally: { id: i + 1, url: urls[0]!, sent: 0, acked: 0, failed: {}, reconnects: 0 },
    };
    client.on('open', (e) => void (e.reconnected && pub.tally.reconnects++));
    client.on('error', () => {});
    pubs.push(pub);
  }
  const all = [...subs.map((s) => s.client), ...pubs.map((p) => p.client)];
  const closeAll = (): Promise<unknown> => Promise.all(all.map((c) => c.close()));

  // Every subscriber subscribed and every publisher connected before the first publish, so
  // every message sent is expected by every subscriber of its topic.
  let readyCount = 0;
  let firstError: string | undefined;
  for (const c of all) c.on('error', (e) => void (firstError ??= `${e.code}: ${e.message}`));
  const ready = Promise.all([
    ...subs.map((sub) =>
      sub.client.subscribe(opts.topics[sub.topicIndex]!, onMessage(sub)).then((r) => {
        sub.tally.history = r.position !== null;
        readyCount++;
      }),
    ),
    ...pubs.map((pub) => new Promise<void>((resolve) => (pub.client.connected ? resolve() : pub.client.on('open', () => resolve()))).then(() => void readyCount++)),
  ]);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      ready,
      new Promise((_, reject) => {
        timer = setTimeout(() => {
          const why = firstError !== undefined ? `; first error: ${firstError}` : '';
          reject(new ConnectError(`${readyCount} of ${all.length} clients connected (and subscribed) after ${opts.connectTimeoutMs} ms${why} (is it a sockwire.pubsub.v1 server, e.g. sockwire serve --mode pubsub?)`));
        }, opts.connectTimeoutMs);
      }),
    ]);
  } catch (err) {
    await closeAll();
    throw err instanceof TopicError ? new ConnectError(`${err.code}: ${err.message}`) : err;
  } finally {
    clearTimeout(timer);
  }

  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const elapsedS = (): number => (performance.now() - t0) / 1000;
  let publishing = true;
  measuring = true;

  const sendOne = (pub: Pub): void => {
    const t = pub.nextTopic;
    pub.nextTopic = (t + 1) % opts.topics.length;
    const seq = ++pub.seq[t]!;
    const unacked = pub.unacked[t]!;
    unacked.add(seq);
    pub.inflight++;
    pub.tally.sent++;
    pub.client.publish(opts.topics[t]!, stampPayload({ publisher: pub.tally.id, seq, sentMs: now() }, opts.size)).then(
      () => {
        unacked.delete(seq);
        pub.tally.acked++;
        settled(pub);
      },
      (err: unknown) => {
        const code = err instanceof TopicError ? err.code : 'error';
        pub.tally.failed[code] = (pub.tally.failed[code] ?? 0) + 1;
        settled(pub);
      },
    );
  };
  const settled = (pub: Pub): void => {
    pub.inflight--;
    if (publishing && opts.rate === undefined) fill(pub);
  };
  const fill = (pub: Pub): void => {
    while (publishing && pub.inflight < opts.window) sendOne(pub);
  };

  let pacing: ReturnType<typeof setInterval> | undefined;
  if (opts.rate === undefined) {
    for (const pub of pubs) fill(pub);
  } else {
    const pacer = new Pacer(opts.rate, performance.now());
    let turn = 0;
    pacing = setInterval(() => {
      const room = pubs.reduce((n, p) => n + Math.max(0, opts.window - p.inflight), 0);
      let k = pacer.take(room, performance.now());
      // Round-robin over the publishers with room, so each gets its share of the rate.
      for (let tries = 0; k > 0 && tries < pubs.length * opts.window; tries++) {
        const pub = pubs[turn++ % pubs.length]!;
        if (pub.inflight < opts.window) {
          sendOne(pub);
          k--;
        }
      }
    }, 5);
  }

  const chaos = new ChaosRunner(opts.chaos, elapsedS, line);
  chaos.start();
  let second = 0;
  let sentBefore = 0;
  const progress = setInterval(() => {
    second++;
    const sent = pubs.reduce((n, p) => n + p.tally.sent, 0);
    const connected = all.filter((c) => c.connected).length;
    line(`${String(second).padStart(4)}s  published ${(sent - sentBefore).toLocaleString('en-US')}/s  delivered ${liveThisSecond.toLocaleString('en-US')}/s  connected ${connected}/${all.length}`);
    sentBefore = sent;
    liveThisSecond = 0;
  }, 1000);

  await new Promise<void>((resolve) => {
    const end = setTimeout(finish, opts.durationS * 1000);
    function finish(): void {
      clearTimeout(end);
      hooks.signal?.removeEventListener('abort', finish);
      resolve();
    }
    if (hooks.signal?.aborted) finish();
    else hooks.signal?.addEventListener('abort', finish);
  });
  publishing = false;
  measuring = false;
  clearInterval(pacing);
  clearInterval(progress);
  const durationS = elapsedS();

  // The drain: acknowledgements still due, clients still reconnecting, recoveries still running.
  const drainStart = performance.now();
  const deadline = drainStart + opts.drainS * 1000;
  const waitUntil = async (done: () => boolean): Promise<boolean> => {
    while (!done()) {
      if (performance.now() >= deadline || hooks.signal?.aborted === true && performance.now() - drainStart > 1000) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
    return true;
  };
  await chaos.finish(Math.max(0, deadline - performance.now()));
  await waitUntil(() => pubs.every((p) => p.inflight === 0));
  // A message missed at the very end shows no jump (nothing follows it): ask history-backed
  // subscribers to catch up once, as an application would when it needs to be current.
  const complete = (sub: Sub): boolean =>
    pubs.every((pub) => {
      const last = pub.seq[sub.topicIndex]!;
      const view = sub.views.get(pub.tally.id);
      if (!view) return last === 0 || classifyMissing([[1, last]], pub.unacked[sub.topicIndex]!).lost === 0;
      return classifyMissing(view.missing(last), pub.unacked[sub.topicIndex]!).lost === 0;
    });
  await Promise.all(subs.filter((s) => s.tally.history && !complete(s)).map((s) => s.client.catchUp(opts.topics[s.topicIndex]!).catch(() => {})));
  const drained = await waitUntil(() => subs.every(complete));
  const drainS = (performance.now() - drainStart) / 1000;
  await closeAll();

  for (const sub of subs) {
    const t = sub.tally;
    for (const pub of pubs) {
      const last = pub.seq[sub.topicIndex]!;
      t.expected += last;
      const view = sub.views.get(pub.tally.id) ?? new StreamView();
      t.received += view.tally.received;
      t.gaps += view.tally.gaps;
      t.duplicates += view.tally.duplicates;
      t.reorders += view.tally.reorders;
      const { lost, unconfirmed } = classifyMissing(view.missing(last), pub.unacked[sub.topicIndex]!);
      t.lost += lost;
      t.unconfirmed += unconfirmed;
    }
    t.repairs = sub.client.stats.gaps;
    t.clientDuplicates = sub.client.stats.duplicates;
  }
  return { startedAt, durationS, drainS, drained, publishers: pubs.map((p) => p.tally), subscribers: subs.map((s) => s.tally), liveDeliveries, latency, chaos: chaos.outcomes };
}
