// The npm `ws` package against /api/v1/ws: auth, chat, cancel, ping, bad frames.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { startDemo } from '../lib/demo.js';
import { assertGapFree, storedText, textOf } from '../lib/runs.js';
import { cancel, chat, connect } from '../snippets/websocket.js';

let server;
let token;
before(async () => {
  server = await startDemo();
  token = await server.login('ws-user');
});
after(() => server?.stop());

const count = (n) => Array.from({ length: n }, (_, i) => i + 1).join(' ');

/** A raw socket and a queue of the frames it receives. */
async function rawSocket(options) {
  const socket = new WebSocket(server.baseUrl.replace(/^http/, 'ws') + '/api/v1/ws', options);
  const frames = [];
  const waiting = [];
  socket.on('message', (data) => {
    const frame = JSON.parse(data.toString());
    const next = waiting.shift();
    if (next) next(frame);
    else frames.push(frame);
  });
  await once(socket, 'open');
  socket.nextFrame = () => (frames.length ? Promise.resolve(frames.shift()) : new Promise((resolve) => waiting.push(resolve)));
  socket.sendJson = (frame) => socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  return socket;
}

test('auth: nothing before it, a session after it, a bad token closes with 4401', async () => {
  const socket = await rawSocket();
  try {
    socket.sendJson({ type: 'ping' });
    assert.equal((await socket.nextFrame()).code, 'unauthorized');
    socket.sendJson({ type: 'auth', token });
    const session = await socket.nextFrame();
    assert.equal(session.type, 'session_start');
    assert.ok(session.session_id);
  } finally {
    socket.close();
  }

  const bad = await rawSocket();
  const closed = once(bad, 'close');
  bad.sendJson({ type: 'auth', token: token.slice(0, -4) + 'AAAA' });
  assert.equal((await bad.nextFrame()).code, 'unauthorized');
  const [code] = await closed;
  assert.equal(code, 4401);

  // and a header works where the client can send one
  const withHeader = await rawSocket({ headers: { Authorization: `Bearer ${token}` } });
  try {
    assert.equal((await withHeader.nextFrame()).type, 'session_start');
  } finally {
    withHeader.close();
  }
});

test('chat streams a run to done, as the SSE events do', async () => {
  const socket = await connect({ baseUrl: server.baseUrl, token });
  try {
    const events = [];
    const done = await chat(socket, { message: 'count to 40', onEvent: (e) => events.push(e) });
    assert.equal(done.type, 'done');
    assertGapFree(events);
    assert.equal(textOf(events), count(40));
    assert.equal((await storedText(server, token, done.thread_id, done.message_id)).text, count(40));
    // a second chat on the same thread
    const again = await chat(socket, { message: 'calculate 6*7', threadId: done.thread_id });
    assert.equal(again.type, 'done');
    assert.equal((await storedText(server, token, done.thread_id, again.message_id)).text, '6*7 = 42');
  } finally {
    socket.close();
  }
});

test('cancel ends the run with cancelled and keeps the partial text', async () => {
  const socket = await connect({ baseUrl: server.baseUrl, token });
  try {
    const events = [];
    const ended = await chat(socket, {
      message: 'count to 5000',
      onEvent: (event) => {
        events.push(event);
        if (event.type === 'token' && event.content.trim() === '10') cancel(socket, event.run_id);
      },
    });
    assert.equal(ended.type, 'cancelled');
    assertGapFree(events);
    const threadId = events[0].thread_id;
    const partial = await storedText(server, token, threadId, ended.message_id);
    assert.equal(partial.status, 'incomplete');
    assert.equal(partial.text, textOf(events));
    assert.ok(partial.text.startsWith(count(10)));
  } finally {
    socket.close();
  }
});

test('ping answers pong with the request id', async () => {
  const socket = await rawSocket({ headers: { Authorization: `Bearer ${token}` } });
  try {
    await socket.nextFrame(); // session_start
    socket.sendJson({ type: 'ping', request_id: 'p-1' });
    assert.deepEqual(await socket.nextFrame(), { type: 'pong', request_id: 'p-1' });
  } finally {
    socket.close();
  }
});

test('bad frames answer an error frame and the socket stays open', async () => {
  const socket = await rawSocket({ headers: { Authorization: `Bearer ${token}` } });
  try {
    await socket.nextFrame(); // session_start
    const cases = [
      ['not json', 'invalid_json'],
      ['[1, 2]', 'invalid_json'],
      [{ type: 'dance' }, 'unknown_type'],
      [{ no_type: true }, 'validation_failed'],
      [{ type: 'chat', request_id: 'c-1' }, 'validation_failed'],
      [{ type: 'chat', message: 42 }, 'validation_failed'],
      [{ type: 'auth', token }, 'already_authenticated'],
    ];
    for (const [frame, code] of cases) {
      socket.sendJson(frame);
      const answer = await socket.nextFrame();
      assert.equal(answer.type, 'error', JSON.stringify(frame));
      assert.equal(answer.code, code, JSON.stringify(frame));
    }
    socket.sendJson({ type: 'ping', request_id: 'still-open' });
    assert.deepEqual(await socket.nextFrame(), { type: 'pong', request_id: 'still-open' });
    assert.equal(socket.readyState, WebSocket.OPEN);
  } finally {
    socket.close();
  }
});

test('an origin outside the allow-list is refused before the upgrade', async () => {
  const socket = new WebSocket(server.baseUrl.replace(/^http/, 'ws') + '/api/v1/ws', { origin: 'https://elsewhere.example' });
  const [, response] = await once(socket, 'unexpected-response');
  assert.equal(response.statusCode, 403);
  response.resume();
  socket.on('error', () => {}); // terminating a socket that never opened reports an error: expected here
  socket.terminate();
});
