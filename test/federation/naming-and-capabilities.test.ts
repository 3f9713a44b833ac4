import { describe, expect, test } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { mergeCapabilities } from '../../src/federation/capabilities.js';
import { namespacedName, slugify } from '../../src/federation/naming.js';

describe('naming', () => {
  test('slugs are lower case, dash separated, accent free', () => {
    expect(slugify('  Weather API (EU) ')).toBe('weather-api-eu');
    expect(slugify('Café Déjà Vu')).toBe('cafe-deja-vu');
    expect(slugify('***')).toBe('');
  });

  test('namespaced names join slug, separator and original name', () => {
    expect(namespacedName('weather', 'get_forecast', { separator: '__', maxLength: 128 }, 'tools[0]')).toBe('weather__get_forecast');
  });

  test('names too long or with characters MCP forbids are refused, not altered', () => {
    const rules = { separator: '__', maxLength: 20 };
    expect(() => namespacedName('weather', 'a_very_long_tool_name', rules, 'tools[3]')).toThrow(ValidationError);
    try {
      namespacedName('weather', 'bad name/with spaces', { separator: '__', maxLength: 128 }, 'tools[7]');
      expect.unreachable();
    } catch (error) {
      expect((error as ValidationError).field).toBe('tools[7]');
      expect((error as ValidationError).message).toMatch(/characters MCP names do not allow/);
    }
  });
});

describe('capability aggregation', () => {
  const a = { tools: { listChanged: true }, logging: {}, experimental: { x: { level: 1 } } };
  const b = { tools: { listChanged: false }, resources: { subscribe: true, listChanged: false }, experimental: { x: { level: 2 }, y: ['b', 'a'] } };
  const c = { resources: { listChanged: true }, prompts: {}, experimental: { y: ['c'] } };

  test('flags are set if any peer sets them; objects merge key by key', () => {
    expect(mergeCapabilities([a, b, c])).toEqual({
      experimental: { x: { level: 2 }, y: ['a', 'b', 'c'] },
      logging: {},
      prompts: {},
      resources: { listChanged: true, subscribe: true },
      tools: { listChanged: true },
    });
  });

  test('the result does not depend on the order of peers', () => {
    const orders = [[a, b, c], [c, b, a], [b, a, c], [c, a, b]];
    const results = orders.map((o) => JSON.stringify(mergeCapabilities(o)));
    expect(new Set(results).size).toBe(1);
  });

  test('no peers, no capabilities; non-objects are ignored', () => {
    expect(mergeCapabilities([])).toEqual({});
    expect(mergeCapabilities([null, 'x', { tools: {} }])).toEqual({ tools: {} });
  });
});
