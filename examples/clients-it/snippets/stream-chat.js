import { fetchEventSource } from '@microsoft/fetch-event-source';

const TERMINAL = ['done', 'error', 'cancelled'];
class Stop extends Error {}

/**
 * Sends a message and streams the run it starts (POST, so EventSource cannot). A dropped
 * connection is retried with the same Idempotency-Key and, added by fetchEventSource, the
 * Last-Event-ID of the last event received: the server joins the same run and resumes after it.
 * Resolves with the terminal event.
 */
export async function streamChat({
  baseUrl, token, message, threadId, onEvent = () => {},
  idempotencyKey = crypto.randomUUID(), lastEventId, fetch = globalThis.fetch,
}) {
  const path = threadId ? `/api/v1/threads/${threadId}/chat` : '/api/v1/chat';
  const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'Idempotency-Key': idempotencyKey };
  // resuming, e.g. after a page reload; lower case, the name fetchEventSource itself updates on each event
  if (lastEventId) headers['last-event-id'] = String(lastEventId);
  let ended = null;
  try {
    await fetchEventSource(baseUrl + path, {
      method: 'POST',
      headers,
      body: JSON.stringify({ message, stream: true }),
      openWhenHidden: true, // otherwise a hidden tab aborts the stream and sends it again
      fetch,
      async onopen(response) {
        if (response.status === 204) throw new Stop('the run is over and nothing is left to send');
        const type = response.headers.get('content-type') ?? '';
        if (response.ok && type.startsWith('text/event-stream')) return;
        const problem = type.includes('json') ? await response.json() : { status: response.status };
        throw new Stop(`${problem.status} ${problem.code ?? ''}: ${problem.detail ?? ''}`);
      },
      onmessage(msg) {
        if (msg.event === 'heartbeat') return;
        const event = JSON.parse(msg.data); // `msg.event` is the type, `error` included: no clash here
        onEvent(event);
        if (TERMINAL.includes(event.type)) ended = event;
      },
      onclose() {
        if (!ended) throw new Error('the stream ended early'); // retried by onerror
      },
      onerror(err) {
        if (err instanceof Stop || ended) throw err; // stops retrying
        return 1000; // retry in 1 s: same key, Last-Event-ID of the last event received
      },
    });
  } catch (err) {
    if (!ended) throw err;
  }
  return ended;
}
