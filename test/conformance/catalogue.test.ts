import { describe, expect, it } from 'vitest';
import { serverCatalogue } from '../../src/conformance/cases/index.js';
import { compareIds, matchesPattern, selectCases, splitPatterns } from '../../src/conformance/select.js';

describe('server case catalogue', () => {
  const all = serverCatalogue();

  it('has at least 400 cases with unique ids, descriptions and expectations', () => {
    expect(all.length).toBeGreaterThanOrEqual(400);
    expect(new Set(all.map((c) => c.id)).size).toBe(all.length);
    for (const c of all) {
      expect(c.id).toMatch(/^\d+(\.\d+)+$/);
      expect(c.description.length).toBeGreaterThan(10);
      expect(c.expectation.length).toBeGreaterThan(10);
    }
  });

  it('covers every group of the brief', () => {
    const groups = new Set(all.map((c) => c.id.split('.')[0]!));
    expect([...groups].sort(compareIds)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '9', '10', '12', '13']);
  });

  it('has the fail-fast, close-code and limit cases users look for by number', () => {
    const ids = new Set(all.map((c) => c.id));
    for (const id of ['6.4.1', '6.4.4', '7.7.1', '7.9.12', '9.1.6', '10.1.1', '2.10', '5.20', '7.3.6']) expect(ids.has(id)).toBe(true);
  });
});

describe('case selection', () => {
  const ids = ['1.1.1', '1.1.10', '1.2.1', '6.4.1', '6.4.2', '6.40.1', '10.1.1'].map((id) => ({ id }));

  it('treats a bare id as itself plus everything under it', () => {
    expect(selectCases(ids, ['6.4']).map((c) => c.id)).toEqual(['6.4.1', '6.4.2']);
    expect(selectCases(ids, ['1.1.1']).map((c) => c.id)).toEqual(['1.1.1']);
  });

  it('supports globs, exclusions and comma lists', () => {
    expect(selectCases(ids, splitPatterns(['1.*,10.*']), ['1.2.*']).map((c) => c.id)).toEqual(['1.1.1', '1.1.10', '10.1.1']);
    expect(matchesPattern('6.40.1', '6.4.?')).toBe(false);
    expect(matchesPattern('6.4.1', '6.4.?')).toBe(true);
    expect(selectCases(ids, [], ['6.*', '1.*']).map((c) => c.id)).toEqual(['10.1.1']);
  });

  it('orders ids numerically', () => {
    expect(['6.10.1', '6.9.2', '10.1', '6.9'].sort(compareIds)).toEqual(['6.9', '6.9.2', '6.10.1', '10.1']);
  });
});
