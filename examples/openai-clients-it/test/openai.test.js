// The official `openai` npm package against Parley's OpenAI-compatible facade (/v1) on the demo jar.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { startDemo } from '../../clients-it/lib/demo.js';
import { ask } from '../snippets/ask.js';

let server;
let client;
let token;
before(async () => {
  server = await startDemo();
  token = await server.login('openai-node-user');
  client = new OpenAI({ apiKey: token, baseURL: `${server.baseUrl}/v1`, maxRetries: 0 });
});
after(() => server?.stop());

test('lists the agents as models', async () => {
  const ids = [];
  for await (const model of client.models.list()) ids.push(model.id);
  assert.ok(ids.includes('assistant'), `models: ${ids}`);
});

test('answers a response and continues it in its conversation', async () => {
  const conversation = await client.conversations.create({ metadata: { topic: 'numbers' } });
  const first = await client.responses.create({ model: 'assistant', input: 'count to 3', conversation: conversation.id });
  assert.equal(first.status, 'completed');
  assert.equal(first.output_text, '1 2 3');
  const second = await client.responses.create({ model: 'assistant', input: 'count to 2', conversation: conversation.id });
  assert.equal(second.output_text, '1 2');
  const items = await client.conversations.items.list(conversation.id, { order: 'asc' });
  assert.deepEqual(items.data.map((i) => i.role), ['user', 'assistant', 'user', 'assistant']);
});

test('a conversation starts with the items it is created with', async () => {
  const conversation = await client.conversations.create({
    items: [
      { type: 'message', role: 'user', content: 'count to 2' },
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: '1 2' }] },
    ],
  });
  const answer = await client.responses.create({ model: 'assistant', input: 'count to 1', conversation: conversation.id });
  assert.equal(answer.output_text, '1');
  const items = await client.conversations.items.list(conversation.id, { order: 'asc' });
  assert.deepEqual(items.data.map((i) => i.role), ['user', 'assistant', 'user', 'assistant']);
  assert.equal(items.data[1].content[0].text, '1 2');
});

test('streams a response with typed events in order', async () => {
  const stream = await client.responses.create({ model: 'assistant', input: 'count to 5', stream: true });
  const types = [];
  let text = '';
  let last;
  for await (const event of stream) {
    types.push(event.type);
    if (event.type === 'response.output_text.delta') text += event.delta;
    last = event;
  }
  assert.deepEqual(types.slice(0, 2), ['response.created', 'response.in_progress']);
  assert.equal(last.type, 'response.completed');
  assert.equal(text, '1 2 3 4 5');
  assert.equal(last.response.output_text ?? last.response.output[0].content[0].text, '1 2 3 4 5');
});

test('shows a server-side tool call as an mcp_call item', async () => {
  const response = await client.responses.create({ model: 'assistant', input: 'calculate 6*7' });
  const call = response.output.find((item) => item.type === 'mcp_call');
  assert.equal(call.name, 'calculator');
  assert.equal(call.server_label, 'parley');
  assert.match(response.output_text, /42/);
});

test('runs in the background, then retrieves and cancels', async () => {
  const started = await client.responses.create({ model: 'assistant', input: 'count to 10000', background: true });
  assert.ok(['queued', 'in_progress'].includes(started.status), started.status);
  const cancelled = await client.responses.cancel(started.id);
  assert.equal(cancelled.status, 'cancelled');
  assert.equal((await client.responses.retrieve(started.id)).status, 'cancelled');
});

test('raises typed errors', async () => {
  await assert.rejects(client.responses.retrieve('resp_doesnotexist'), OpenAI.NotFoundError);
  await assert.rejects(client.responses.create({ model: 'assistant', input: 'x', store: false }),
    (e) => e instanceof OpenAI.BadRequestError && e.param === 'store');
  await assert.rejects(client.responses.create({ model: 'assistant', input: 'x', tools: [{ type: 'function', name: 'f', parameters: {} }] }),
    (e) => e instanceof OpenAI.BadRequestError && e.param === 'tools');
  const stranger = new OpenAI({ apiKey: 'not-a-parley-token', baseURL: `${server.baseUrl}/v1`, maxRetries: 0 });
  await assert.rejects(stranger.models.list(), OpenAI.AuthenticationError);
});

test('answers chat completions, streamed and not', async () => {
  const completion = await client.chat.completions.create({ model: 'assistant', messages: [{ role: 'user', content: 'count to 4' }] });
  assert.equal(completion.choices[0].message.content, '1 2 3 4');
  const stream = await client.chat.completions.create({
    model: 'assistant', messages: [{ role: 'user', content: 'count to 3' }], stream: true, stream_options: { include_usage: true },
  });
  let text = '';
  let usage;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? '';
    usage = chunk.usage ?? usage;
  }
  assert.equal(text, '1 2 3');
  assert.ok(usage.total_tokens > 0);
});

test('honours temperature and max_output_tokens, echoes them and names the response a turn continued', async () => {
  // the demo model stops an answer at its output token limit
  const first = await client.responses.create({ model: 'assistant', input: 'count to 10', temperature: 0.2, max_output_tokens: 3 });
  assert.equal(first.output_text, '1 2 3');
  assert.equal(first.status, 'incomplete');
  assert.equal(first.incomplete_details.reason, 'max_output_tokens');
  assert.equal(first.temperature, 0.2);
  assert.equal(first.max_output_tokens, 3);
  assert.equal(first.previous_response_id, null);
  const next = await client.responses.create({
    model: 'assistant', input: 'count to 4', previous_response_id: first.id, reasoning: { effort: 'low' },
  });
  assert.equal(next.output_text, '1 2 3 4');
  assert.equal(next.status, 'completed');
  assert.equal(next.previous_response_id, first.id);
  assert.equal(next.reasoning.effort, 'low');
  assert.equal(next.max_output_tokens, null);
  const again = await client.responses.retrieve(first.id);
  assert.equal(again.temperature, 0.2);
  assert.equal(again.max_output_tokens, 3);
  await assert.rejects(client.responses.create({ model: 'assistant', input: 'x', temperature: 3 }),
    (e) => e instanceof OpenAI.BadRequestError && e.param === 'temperature');
});

test('stores the history a chat completion sends as the messages of its thread, and offers no approval tool', async () => {
  // the demo model reports every message before the last as read from its prompt cache
  const completion = await client.chat.completions.create({
    model: 'assistant',
    messages: [
      { role: 'user', content: 'Hello there' },
      { role: 'assistant', content: 'You said: "Hello there" (2 words).' },
      { role: 'user', content: '/cached refund A-1' },
    ],
  });
  assert.equal(completion.choices[0].message.content, 'I cannot refund here: this agent has no refund tool.');
  assert.equal(completion.choices[0].finish_reason, 'stop');
  const alone = await client.chat.completions.create({ model: 'assistant', messages: [{ role: 'user', content: '/cached refund A-1' }] });
  // one token per word: the two earlier messages hold 2 + 6 words
  assert.equal(completion.usage.prompt_tokens_details.cached_tokens - alone.usage.prompt_tokens_details.cached_tokens, 8);
  await assert.rejects(client.chat.completions.create({
    model: 'assistant', messages: [{ role: 'user', content: 'ok' }, { role: 'assistant', content: '' }, { role: 'user', content: 'next' }],
  }), (e) => e instanceof OpenAI.BadRequestError && e.param === 'messages[1].content');
});

test('honours max_tokens and temperature in chat completions', async () => {
  const completion = await client.chat.completions.create({
    model: 'assistant', messages: [{ role: 'user', content: 'count to 9' }], max_tokens: 2, temperature: 0.7,
  });
  assert.equal(completion.choices[0].message.content, '1 2');
  assert.equal(completion.choices[0].finish_reason, 'length');
});

test('reports the input read from the prompt cache in the usage', async () => {
  const response = await client.responses.create({ model: 'assistant', input: '/cached hello' });
  assert.ok(response.usage.input_tokens_details.cached_tokens > 0, JSON.stringify(response.usage));
  assert.ok(response.usage.input_tokens_details.cached_tokens < response.usage.input_tokens);
});

test('the documented snippet asks an agent', async () => {
  assert.equal(await ask({ baseURL: `${server.baseUrl}/v1`, apiKey: token, agent: 'assistant', question: 'calculate 6*7' }), '6*7 = 42');
});
