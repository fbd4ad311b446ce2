import { EventSource } from 'eventsource';

/**
 * Follows a run until its terminal event and resolves with it. The `eventsource` package reconnects
 * by itself with `Last-Event-ID` when the connection drops; `fetch` is how the token gets in.
 */
export function followRun({ baseUrl, token, threadId, runId, onEvent = () => {}, fetch = globalThis.fetch }) {
  const url = `${baseUrl}/api/v1/threads/${threadId}/runs/${runId}/events`;
  const source = new EventSource(url, {
    fetch: (input, init) => fetch(input, { ...init, headers: { ...init.headers, Authorization: `Bearer ${token}` } }),
  });
  return new Promise((resolve, reject) => {
    const end = (event) => {
      const data = JSON.parse(event.data);
      onEvent(data);
      source.close(); // the run is over: close, or EventSource comes back (and gets 204)
      resolve(data);
    };
    for (const type of ['run_started', 'token', 'thinking', 'trace_start', 'trace_update', 'trace_end']) {
      source.addEventListener(type, (event) => onEvent(JSON.parse(event.data)));
    }
    source.addEventListener('done', end);
    source.addEventListener('cancelled', end);
    source.addEventListener('error', (event) => {
      // two kinds of `error`: the run's terminal event has `data`, EventSource's own connection errors do not
      if (typeof event.data === 'string') return end(event);
      if (source.readyState === EventSource.CLOSED) reject(new Error(`stream failed: ${event.message}`));
      // otherwise it is CONNECTING again: it reconnects by itself, with Last-Event-ID
    });
  });
}
