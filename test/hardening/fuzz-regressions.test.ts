// Replays through each fuzz target (fuzz/targets/*.mjs, the same functions Jazzer.js runs) every
// input that once broke an invariant (fuzz/regressions/<target>/) and the whole seed corpus
// (fuzz/corpus/<target>/, the conformance cases' bytes): a target throws when any invariant it
// checks is broken, so each file here is a test that the rule still holds. Needs the build
// (dist/, or SOCKWIRE_DIST), as `npm test` makes it.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const TARGETS = ['decoder', 'head', 'tokens', 'inflate', 'client-response'] as const;

interface Target {
  fuzz(data: Buffer): void | Promise<void>;
}

async function target(name: string): Promise<Target> {
  return (await import(join(root, 'fuzz', 'targets', `${name}.mjs`))) as Target;
}

function files(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((f) => !f.startsWith('.') && !f.endsWith('.md')).sort() : [];
}

describe('fuzz regressions: inputs that once broke an invariant', () => {
  for (const name of TARGETS) {
    const dir = join(root, 'fuzz', 'regressions', name);
    for (const file of files(dir)) {
      it(`${name}: ${file}`, async () => {
        const t = await target(name);
        await expect(Promise.resolve().then(() => t.fuzz(readFileSync(join(dir, file))))).resolves.toBeUndefined();
      });
    }
  }
});

describe('fuzz seed corpora keep every invariant', () => {
  for (const name of TARGETS) {
    it(`${name}: every seed`, { timeout: 120_000 }, async () => {
      const t = await target(name);
      const dir = join(root, 'fuzz', 'corpus', name);
      const seeds = files(dir);
      expect(seeds.length).toBeGreaterThan(10);
      for (const file of seeds) {
        try {
          await t.fuzz(readFileSync(join(dir, file)));
        } catch (err) {
          throw new Error(`${name} seed ${file}: ${(err as Error).message}`, { cause: err });
        }
      }
    });
  }
});
