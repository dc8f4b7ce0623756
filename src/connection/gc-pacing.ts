import { v8 } from '../builtins.js';

/*
 * Pacing V8's scavenger to the bytes a process receives.
 *
 * Every chunk a socket reads is a fresh ArrayBuffer (Node's read buffer), and a frame that spans
 * reads is gathered into another one (the decoder's accumulator): a process receiving large
 * messages makes about two bytes of ArrayBuffer per byte received. V8 frees that memory only
 * when a garbage collection finds the buffers dead. Young ones die cheaply in a scavenge — but a
 * scavenge runs when the young generation fills with JavaScript objects, and sockwire's receive
 * path makes very few. Node 24's V8 then reclaims the buffers by full mark-compacts instead,
 * started by "external memory pressure" every few dozen MiB: on a 64 KiB echo, 37 mark-compacts
 * and 2 scavenges per 20,000 messages, where `ws` (whose receive path makes a few KiB of objects
 * per message) gets 45 scavenges and 5 mark-compacts, and the server spent about a quarter more CPU
 * per message than with scavenges (bench/RESULTS.md, "GC pacing"). Node 20 and 22 scavenged on
 * their own.
 *
 * So every MiB received allocates a little garbage — a share of the young generation's size
 * (read from V8 now and then, as it grows and shrinks) — so that a scavenge comes at least every
 * RECEIVED_PER_SCAVENGE bytes, before the buffers made since the last one reach V8's limit. It
 * costs a bump allocation of arrays that die at once (a scavenge copies only survivors); where the
 * application itself allocates, scavenges come sooner anyway and this adds a little to them.
 */

/**
 * Only on V8 13 and later (Node 24): V8 11 and 12 (Node 20, 22) start scavenges themselves when
 * young ArrayBuffers pile up (78 scavenges and no mark-compact per 20,000 64 KiB echoes, with
 * sockwire's receive path making almost no objects), and garbage added there only makes extra ones.
 */
const PACING = Number(process.versions.v8.split('.')[0]) >= 13;

/** Bytes received between two pacing steps: below this, receiving costs one addition. */
const STEP = 1 << 20;
/** A scavenge at least every this many bytes received (about twice as many of ArrayBuffers). */
const RECEIVED_PER_SCAVENGE = 32 << 20;
/** Pacing steps between two readings of the young generation's size. */
const STEPS_PER_REFRESH = 64;
/** Largest garbage array made at once (elements): 64 KiB, a regular young object. */
const CHUNK_ELEMENTS = 8192;

let received = 0;
let stepsUntilRefresh = 0;
/** Bytes of garbage allocated per step (0 until first read). */
let perStep = 0;
/** Holds the last garbage array, so that no compiler can drop the allocation as unused. */
let sink: unknown = null;

/** Counts bytes read from a transport; now and then allocates the garbage that paces the scavenger. */
export function noteReceived(bytes: number): void {
  if (!PACING) return;
  received += bytes;
  if (received >= STEP) pace();
}

function pace(): void {
  const steps = Math.floor(received / STEP);
  received -= steps * STEP;
  if (stepsUntilRefresh <= 0) {
    perStep = Math.ceil((youngCapacity() * STEP) / RECEIVED_PER_SCAVENGE);
    stepsUntilRefresh = STEPS_PER_REFRESH;
  }
  stepsUntilRefresh -= steps;
  for (let left = (steps * perStep) >>> 3; left > 0; left -= CHUNK_ELEMENTS) sink = new Array(Math.min(left, CHUNK_ELEMENTS));
}

/** Bytes the young generation takes before a scavenge (one semispace), as V8 reports it now. */
function youngCapacity(): number {
  for (const space of v8().getHeapSpaceStatistics()) {
    // The semispace new space reports both halves; allocation fills one before a scavenge.
    if (space.space_name === 'new_space') return space.space_size / 2;
  }
  return 8 << 20;
}

/** @internal For tests: the pacing state, reset. */
export function _resetPacing(): void {
  received = 0;
  stepsUntilRefresh = 0;
  perStep = 0;
  sink = null;
}
