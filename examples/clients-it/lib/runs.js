// What the tests check about a followed run: seqs, text, and the stored messages.
import assert from 'node:assert/strict';

/** Asserts that `events` are the run's events from seq 1 with no gap and no duplicate, ending with a terminal one. */
export function assertGapFree(events) {
  const seqs = events.map((e) => e.seq);
  assert.deepEqual(seqs, seqs.map((_, i) => i + 1), `seqs ${seqs.join(',')}`);
  assert.ok(['done', 'error', 'cancelled'].includes(events.at(-1).type), `last event ${events.at(-1).type}`);
}

/** The text the `token` events spell. */
export const textOf = (events) => events.filter((e) => e.type === 'token').map((e) => e.content).join('');

/** The stored text of message `messageId` of `threadId`. */
export async function storedText(server, token, threadId, messageId) {
  const page = await server.request('GET', `/api/v1/threads/${threadId}/messages?limit=100`, token);
  const message = page.data.find((m) => m.id === messageId);
  assert.ok(message, `message ${messageId} is stored`);
  return { text: message.content.map((p) => p.text ?? '').join(''), status: message.status };
}

/** Starts a run without following it; answers its thread and run ids once it exists. */
export async function startRun(server, token, message) {
  const thread = await server.request('POST', '/api/v1/threads', token, {});
  const events = await fetch(`${server.baseUrl}/api/v1/threads/${thread.id}/chat`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ message, stream: true }),
  });
  assert.equal(events.status, 200);
  // read up to the first event (run_started) only, then let go: the run goes on (on_disconnect: continue)
  const reader = events.body.getReader();
  let text = '';
  while (!text.includes('\n\n')) {
    const { value, done } = await reader.read();
    assert.ok(!done, 'the stream has a first event');
    text += new TextDecoder().decode(value);
  }
  await reader.cancel();
  const runId = /"run_id":"([^"]+)"/.exec(text)[1];
  return { threadId: thread.id, runId };
}
