// The npm `eventsource` package (the WHATWG EventSource, as browsers implement it) against /events.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { EventSource } from 'eventsource';
import { startDemo } from '../lib/demo.js';
import { startProxy } from '../lib/proxy.js';
import { assertGapFree, startRun, storedText, textOf } from '../lib/runs.js';
import { followRun } from '../snippets/follow-run.js';

let server;
let token;
before(async () => {
  server = await startDemo();
  token = await server.login('eventsource-user');
});
after(() => server?.stop());

test('follows a run to its end and closes', async () => {
  const { threadId, runId } = await startRun(server, token, 'count to 50');
  const events = [];
  const done = await followRun({ baseUrl: server.baseUrl, token, threadId, runId, onEvent: (e) => events.push(e) });
  assert.equal(done.type, 'done');
  assertGapFree(events);
  assert.equal(textOf(events), Array.from({ length: 50 }, (_, i) => i + 1).join(' '));
  const stored = await storedText(server, token, threadId, done.message_id);
  assert.equal(textOf(events), stored.text);
});

test("tells the run's error event from EventSource's own connection errors", async () => {
  const { threadId, runId } = await startRun(server, token, '/fail please');
  const events = [];
  const ended = await followRun({ baseUrl: server.baseUrl, token, threadId, runId, onEvent: (e) => events.push(e) });
  assert.equal(ended.type, 'error');
  assert.equal(ended.code, 'model_error');
  assertGapFree(events);

  // a connection error, by contrast, has no data: a 404 closes the EventSource and the snippet rejects
  await assert.rejects(
    followRun({ baseUrl: server.baseUrl, token, threadId, runId: 'run_doesnotexist' }),
    /stream failed: Non-200 status code \(404\)/,
  );
});

test('resumes through a connection cut mid-stream, with no gap and no duplicate', async () => {
  const proxy = await startProxy(server.baseUrl);
  try {
    const { threadId, runId } = await startRun(server, token, 'count to 300');
    const events = [];
    const requests = [];
    let cutAt = null;
    const done = await followRun({
      baseUrl: proxy.url, token, threadId, runId,
      fetch: (input, init) => {
        requests.push(init.headers['Last-Event-ID'] ?? null);
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
    assert.ok(requests.length >= 2, `reconnected (requests: ${JSON.stringify(requests)})`);
    assert.equal(requests[0], null);
    assert.ok(Number(requests[1]) >= cutAt, `resumed with Last-Event-ID ${requests[1]} after the cut at ${cutAt}`);
    assertGapFree(events);
    const stored = await storedText(server, token, threadId, done.message_id);
    assert.equal(textOf(events), stored.text);
    assert.equal(stored.text, Array.from({ length: 300 }, (_, i) => i + 1).join(' '));
  } finally {
    await proxy.close();
  }
});

test('an EventSource left open after the end comes back once, gets 204 and stops', async () => {
  const { threadId, runId } = await startRun(server, token, 'count to 5');
  const statuses = [];
  // a careless client: it never calls close()
  const source = new EventSource(`${server.baseUrl}/api/v1/threads/${threadId}/runs/${runId}/events`, {
    fetch: async (input, init) => {
      const response = await fetch(input, { ...init, headers: { ...init.headers, Authorization: `Bearer ${token}` } });
      statuses.push(response.status);
      return response;
    },
  });
  try {
    let doneSeq = null;
    source.addEventListener('done', (event) => {
      doneSeq = event.lastEventId;
    });
    const stopped = await new Promise((resolve) => {
      source.addEventListener('error', (event) => {
        if (source.readyState === EventSource.CLOSED) resolve(event);
      });
    });
    assert.ok(doneSeq, 'the done event arrived first');
    assert.equal(stopped.code, 204);
    assert.deepEqual(statuses, [200, 204]);
    // and nothing more for longer than EventSource's reconnect delay (3 s)
    await new Promise((resolve) => setTimeout(resolve, 4000));
    assert.deepEqual(statuses, [200, 204]);
  } finally {
    source.close();
  }
});
