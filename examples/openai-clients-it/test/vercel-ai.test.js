// The Vercel AI SDK (`ai` with `@ai-sdk/openai`) against Parley's OpenAI-compatible facade (/v1).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, streamText } from 'ai';
import { startDemo } from '../../clients-it/lib/demo.js';
import { streamAnswer } from '../snippets/stream-text.js';

let server;
let provider;
let token;
before(async () => {
  server = await startDemo();
  token = await server.login('vercel-ai-user');
  provider = createOpenAI({ apiKey: token, baseURL: `${server.baseUrl}/v1` });
});
after(() => server?.stop());

test('generateText through the Responses API', async () => {
  const result = await generateText({ model: provider('assistant'), prompt: 'count to 3', maxRetries: 0 });
  assert.equal(result.text, '1 2 3');
  assert.equal(result.finishReason, 'stop');
  assert.ok(result.usage.totalTokens > 0);
});

test('streamText through the Responses API', async () => {
  const result = streamText({ model: provider('assistant'), prompt: 'count to 6', maxRetries: 0 });
  let text = '';
  for await (const delta of result.textStream) text += delta;
  assert.equal(text, '1 2 3 4 5 6');
  assert.equal(await result.finishReason, 'stop');
});

test('generateText and streamText through Chat Completions', async () => {
  const result = await generateText({ model: provider.chat('assistant'), prompt: 'count to 2', maxRetries: 0 });
  assert.equal(result.text, '1 2');
  const streamed = streamText({ model: provider.chat('assistant'), prompt: 'count to 4', maxRetries: 0 });
  let text = '';
  for await (const delta of streamed.textStream) text += delta;
  assert.equal(text, '1 2 3 4');
});

test('an unknown model is an error the SDK raises', async () => {
  await assert.rejects(generateText({ model: provider('no-such-agent'), prompt: 'hi', maxRetries: 0 }), /does not exist/);
});

test('the documented snippet streams an answer', async () => {
  const deltas = [];
  const text = await streamAnswer({ baseURL: `${server.baseUrl}/v1`, apiKey: token, agent: 'assistant', prompt: 'count to 3',
    onDelta: (d) => deltas.push(d) });
  assert.equal(text, '1 2 3');
  assert.ok(deltas.length >= 3, `deltas: ${deltas}`);
});
