import { describe, expect, test } from 'vitest';
import { uuidv7 } from '../../src/federation/uuid.js';

describe('uuidv7', () => {
  test('is an RFC 9562 version 7 UUID carrying the given time in its first 48 bits', () => {
    const now = Date.UTC(2026, 10, 25, 12, 0, 0, 123);
    const id = uuidv7(now);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(now);
  });

  test('ids drawn across several refills of the random pool are all distinct', () => {
    const ids = Array.from({ length: 5_000 }, () => uuidv7(1_000));
    expect(new Set(ids).size).toBe(ids.length);
    // Same millisecond: only the random bits tell them apart, so they must differ there.
    expect(new Set(ids.map((id) => id.slice(15))).size).toBe(ids.length);
  });

  test('sorts by time: a later millisecond gives a greater id', () => {
    expect(uuidv7(2_000) > uuidv7(1_999)).toBe(true);
  });
});
