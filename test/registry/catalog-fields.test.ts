// A peer with tools, resources, templates and prompts carrying every optional
// field MCP defines: each one must come back through the GraphQL API as sent.
import type { Prompt, PromptArgument, Resource, ResourceTemplate, Tool } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { startPeer, type TestPeer } from '../helpers/peers.js';
import { registered } from '../helpers/registry.js';

const icons = [{ src: 'https://peer.example/icon.svg', mimeType: 'image/svg+xml', sizes: ['any'], theme: 'dark' as const }];

const tools: Tool[] = [
  {
    name: 'get_forecast',
    title: 'Get forecast',
    description: 'Forecast for a city',
    inputSchema: { type: 'object', properties: { city: { type: 'string', minLength: 1 } }, required: ['city'] },
    outputSchema: { type: 'object', properties: { celsius: { type: 'number' } }, required: ['celsius'] },
    annotations: { readOnlyHint: true, openWorldHint: false, idempotentHint: true },
    icons,
    _meta: { 'example.com/cost': 3, nested: { a: [1, 2] } },
  },
  // Title only in annotations (older servers): the catalog shows it as the title.
  { name: 'legacy.tool-1', inputSchema: { type: 'object' }, annotations: { title: 'Legacy title', destructiveHint: true } },
];
const resources: Resource[] = [
  {
    uri: 'file:///reports/today.csv',
    name: 'today',
    title: "Today's report",
    description: 'CSV of today',
    mimeType: 'text/csv',
    size: 2048,
    annotations: { audience: ['user'], priority: 0.5, lastModified: '2025-01-01T00:00:00Z' },
    icons,
    _meta: { source: 'db' },
  },
];
const templates: ResourceTemplate[] = [
  {
    uriTemplate: 'file:///reports/{date}.csv',
    name: 'by-date',
    title: 'Report by date',
    description: 'CSV of a given day',
    mimeType: 'text/csv',
    annotations: { audience: ['assistant'] },
    icons,
    _meta: { since: 2020 },
  },
];
const prompts: Prompt[] = [
  {
    name: 'summarise',
    title: 'Summarise',
    description: 'Summarise a report',
    // The SDK's types lack argument titles (MCP 2025-06-18 has them).
    arguments: [{ name: 'date', title: 'Date', description: 'Which day', required: true } as PromptArgument, { name: 'tone', description: 'How to write' }],
    icons,
    _meta: { version: 2 },
  },
];

const QUERY = /* GraphQL */ `
  query Everything($id: ID!) {
    gateway(id: $id) {
      protocolVersion serverInfo instructions capabilities
      tools(first: 10) { edges { node { name originalName title description inputSchema outputSchema annotations icons meta enabled } } }
      resources(first: 10) { edges { node { uri name title description mimeType size annotations icons meta enabled } } }
      resourceTemplates(first: 10) { edges { node { uriTemplate name title description mimeType annotations icons meta } } }
      prompts(first: 10) { edges { node { name originalName title description arguments { name title description required } icons meta } } }
    }
  }
`;

describe('a peer with every kind of catalog entry', () => {
  let t: TestApp;
  let peer: TestPeer;
  let gateway: any;
  beforeAll(async () => {
    t = await startTestApp();
    peer = await startPeer({ tools, resources, templates, prompts, instructions: 'Use get_forecast for weather.', pageSize: 1 });
    const { id } = await registered(t, { name: 'Reports', url: peer.url });
    const { data, errors } = await t.gql(QUERY, { id });
    expect(errors).toBeUndefined();
    gateway = data.gateway;
  });
  afterAll(async () => {
    await t?.close();
    await peer?.close();
  });

  const nodes = (connection: { edges: { node: any }[] }) => connection.edges.map((e) => e.node);

  test('session facts are recorded: protocol version, server info, instructions, capabilities', () => {
    expect(gateway.protocolVersion).toBe('2025-11-25');
    expect(gateway.serverInfo).toEqual({ name: 'test-peer', version: '1.2.3', title: 'Test Peer' });
    expect(gateway.instructions).toBe('Use get_forecast for weather.');
    expect(gateway.capabilities).toEqual({ tools: { listChanged: true }, resources: { listChanged: true }, prompts: { listChanged: true } });
  });

  test('tools keep title, description, schemas, annotations, icons and _meta', () => {
    expect(nodes(gateway.tools)).toEqual([
      {
        name: 'reports__get_forecast',
        originalName: 'get_forecast',
        title: 'Get forecast',
        description: 'Forecast for a city',
        inputSchema: tools[0]!.inputSchema,
        outputSchema: tools[0]!.outputSchema,
        annotations: tools[0]!.annotations,
        icons,
        meta: tools[0]!._meta,
        enabled: true,
      },
      {
        name: 'reports__legacy.tool-1',
        originalName: 'legacy.tool-1',
        title: 'Legacy title',
        description: null,
        inputSchema: { type: 'object' },
        outputSchema: null,
        annotations: { title: 'Legacy title', destructiveHint: true },
        icons: null,
        meta: null,
        enabled: true,
      },
    ]);
  });

  test('resources and templates keep names, titles, mime types, size, annotations, icons and _meta', () => {
    const { _meta, ...resource } = resources[0]!;
    expect(nodes(gateway.resources)).toEqual([{ ...resource, meta: _meta, enabled: true }]);
    const { _meta: templateMeta, ...template } = templates[0]!;
    expect(nodes(gateway.resourceTemplates)).toEqual([{ ...template, meta: templateMeta }]);
  });

  test('prompts keep their arguments (required defaulting to false), icons and _meta', () => {
    expect(nodes(gateway.prompts)).toEqual([
      {
        name: 'reports__summarise',
        originalName: 'summarise',
        title: 'Summarise',
        description: 'Summarise a report',
        arguments: [
          { name: 'date', title: 'Date', description: 'Which day', required: true },
          { name: 'tone', title: null, description: 'How to write', required: false },
        ],
        icons,
        meta: { version: 2 },
      },
    ]);
  });

  test('every list was followed page by page (one entry per page)', () => {
    expect(peer.requests.methods).toMatchObject({ 'tools/list': 2, 'resources/list': 1, 'resources/templates/list': 1, 'prompts/list': 1 });
  });
});
