// Shared by the fuzz targets: where sockwire's build is, and how a target reads its input.
// Targets run under Jazzer.js (scripts/fuzz-jazzer.mjs) and, unchanged, under vitest when
// test/hardening/fuzz-regressions.test.ts replays the inputs that once failed.
import { pathToFileURL } from 'node:url';

const root = new URL('../../', import.meta.url);
/** The build under test: ./dist, or SOCKWIRE_DIST (a build elsewhere). */
const dist = process.env.SOCKWIRE_DIST ? pathToFileURL(`${process.env.SOCKWIRE_DIST}/`) : new URL('dist/', root);

/** Imports a module of the build, e.g. `load('framing/index.js')`. */
export function load(path) {
  return import(new URL(path, dist).href);
}

/**
 * The fuzzer's bytes read front to back: a few leading bytes choose options (so one corpus
 * covers every configuration), the rest is the input proper. Past the end, reads give 0.
 */
export class Input {
  constructor(data) {
    this.data = data;
    this.at = 0;
  }

  byte() {
    return this.at < this.data.length ? this.data[this.at++] : 0;
  }

  /** One of `choices`, by the next byte. */
  pick(choices) {
    return choices[this.byte() % choices.length];
  }

  /** Everything not read yet. */
  rest() {
    const out = this.data.subarray(this.at);
    this.at = this.data.length;
    return out;
  }
}

/**
 * Cut points for `length` bytes from a seed byte: 0 gives the bytes whole, otherwise chunks of
 * 1..seed bytes in a fixed pseudo-random pattern (a transport may split anywhere).
 */
export function cuts(length, seed) {
  if (seed === 0 || length === 0) return [0, length];
  const points = [0];
  let x = seed;
  for (let at = 0; at < length; ) {
    x = (x * 73 + 41) & 0xff;
    at = Math.min(length, at + 1 + (x % seed));
    points.push(at);
  }
  return points;
}

/** `data` split at `points` (from {@link cuts}); every chunk is a copy, as a socket's would be. */
export function split(data, points) {
  const out = [];
  for (let i = 1; i < points.length; i++) out.push(Buffer.from(data.subarray(points[i - 1], points[i])));
  return out;
}

/** A finding: Jazzer.js reports any error thrown by the target. */
export function broken(what) {
  throw new Error(`invariant broken: ${what}`);
}
