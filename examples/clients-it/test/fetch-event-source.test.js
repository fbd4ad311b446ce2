// @microsoft/fetch-event-source streaming a POST /chat, retried through a dropped connection.
import '../lib/browser-globals.js';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startDemo } from '../lib/demo.js';
import { startProxy } from '../lib/proxy.js';
import { assertGapFree, storedText, textOf } from '../lib/runs.js';
import { streamChat } from '../snippets/stream-chat.js';

let server;
let token;
before(async () => {
  server = await startDemo();
  token = await server.login('fetch-event-source-user');
});
after(() => server?.stop());

const count = (n) => Array.from({ length: n }, (_, i) => i + 1).join(' ');

test('streams a POST chat to its end', async () => {
  const events = [];
  const done = await streamChat({ baseUrl: server.baseUrl, token, message: 'count to 30', onEvent: (e) => events.push(e) });
  assert.equal(done.type, 'done');
  assertGapFree(events);
  assert.equal(textOf(events), count(30));
  assert.equal((await storedText(server, token, done.thread_id, done.message_id)).text, count(30));
});

test('a retry after a cut carries Idempotency-Key and Last-Event-ID and duplicates nothing', async () => {
  const proxy = await startProxy(server.baseUrl);
  try {
    const events = [];
    const requests = [];
    let cutAt = null;
    const done = await streamChat({
      baseUrl: proxy.url, token, message: 'count to 300',
      fetch: (input, init) => {
        requests.push({ key: init.headers['Idempotency-Key'], lastEventId: init.headers['last-event-id'] ?? null, body: init.body });
        return fetch(input, init);
      },
      onEvent: (event) => {
        events.push(event);
        if (cutAt === null && event.type === 'token' && event.content.trim() === '20') {
          cutAt = event.seq;
          assert.equal(proxy.cut(), 1, 'one connection to cut');
        }
      },
    });
    assert.equal(done.type, 'done');
    assert.ok(cutAt !== null && cutAt < done.seq, 'the cut came mid-stream');
    assert.ok(requests.length >= 2, 'retried');
    assert.equal(requests[0].lastEventId, null);
    assert.equal(requests[1].key, requests[0].key, 'the retry carries the same Idempotency-Key');
    assert.equal(requests[1].body, requests[0].body);
    assert.ok(Number(requests[1].lastEventId) >= cutAt, `the retry resumes after ${requests[1].lastEventId}`);
    assertGapFree(events);
    const stored = await storedText(server, token, done.thread_id, done.message_id);
    assert.equal(textOf(events), stored.text);
    assert.equal(stored.text, count(300));
    // one run, one user message and one answer: the retry created nothing
    const runs = await server.request('GET', `/api/v1/threads/${done.thread_id}/runs`, token);
    assert.equal(runs.data.length, 1);

    // and a retry that comes after the end (the same key, the terminal seq) gets 204: nothing to send, nothing stored
    const late = [];
    const again = streamChat({
      baseUrl: server.baseUrl, token, message: 'count to 300', idempotencyKey: requests[0].key,
      lastEventId: done.seq, onEvent: (e) => late.push(e),
    });
    await assert.rejects(again, /nothing is left/);
    assert.deepEqual(late, []);
    assert.equal((await server.request('GET', `/api/v1/threads/${done.thread_id}/runs`, token)).data.length, 1);
  } finally {
    await proxy.close();
  }
});

test("the run's error event ends the stream like any terminal event", async () => {
  const events = [];
  const ended = await streamChat({ baseUrl: server.baseUrl, token, message: '/fail now', onEvent: (e) => events.push(e) });
  assert.equal(ended.type, 'error');
  assert.equal(ended.code, 'model_error');
  assertGapFree(events);
});

test('a refused request stops instead of retrying', async () => {
  const attempts = [];
  await assert.rejects(
    streamChat({
      baseUrl: server.baseUrl, token, message: '',
      fetch: (input, init) => {
        attempts.push(1);
        return fetch(input, init);
      },
    }),
    /422 validation_failed/,
  );
  assert.equal(attempts.length, 1);
});
