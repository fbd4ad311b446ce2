import WebSocket from 'ws'; // in a browser, use the built-in WebSocket instead

/** Opens an authenticated socket: resolves once the server sent `session_start`. */
export function connect({ baseUrl, token }) {
  const socket = new WebSocket(baseUrl.replace(/^http/, 'ws') + '/api/v1/ws');
  return new Promise((resolve, reject) => {
    socket.addEventListener('open', () => socket.send(JSON.stringify({ type: 'auth', token })));
    socket.addEventListener('message', function started(event) {
      const frame = JSON.parse(event.data);
      socket.removeEventListener('message', started);
      if (frame.type === 'session_start') resolve(socket);
      else reject(new Error(`not authenticated: ${frame.code}`));
    });
    socket.addEventListener('close', (event) => reject(new Error(`closed: ${event.code}`)));
    socket.addEventListener('error', () => reject(new Error('could not connect')));
  });
}

/**
 * Sends a message and resolves with the run's terminal event. Frames carry the `request_id` the
 * chat frame gave, so several chats can share one socket.
 */
export function chat(socket, { message, threadId, onEvent = () => {} }) {
  const requestId = crypto.randomUUID();
  return new Promise((resolve, reject) => {
    socket.addEventListener('message', function listener(event) {
      const frame = JSON.parse(event.data);
      if (frame.request_id !== requestId) return;
      if (frame.type === 'error' && frame.seq === undefined) {
        // the frame was refused (validation, rate limit, ...): no run was started
        socket.removeEventListener('message', listener);
        reject(new Error(`${frame.code}: ${frame.message}`));
        return;
      }
      onEvent(frame);
      if (['done', 'error', 'cancelled'].includes(frame.type)) {
        socket.removeEventListener('message', listener);
        resolve(frame);
      }
    });
    socket.send(JSON.stringify({ type: 'chat', request_id: requestId, thread_id: threadId, message }));
  });
}

/** Cancels a run followed on this socket (without `run_id`: the socket's active run). */
export function cancel(socket, runId) {
  socket.send(JSON.stringify({ type: 'cancel', run_id: runId }));
}
