/*
 * The conversation tree on the demo page: hover actions on a message (edit a question in place and
 * resend it, regenerate an answer, copy, delete with confirmation) and `< i/n >` arrows that switch
 * between the versions of a message. Every change is made on the server, then the thread is drawn
 * again from its history (the active path), following the new run when there is one. An edit or a
 * regenerate made while an answer streams waits for that answer to end (if_busy: enqueue).
 */
(function () {
  'use strict';

  const P = window.Parley;
  const API = '/api/v1';

  const el = (tag, attrs, ...children) => {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null) continue;
      if (key === 'class') node.className = value;
      else if (key === 'text') node.textContent = value;
      else node.setAttribute(key, value);
    }
    for (const child of children) if (child) node.append(child);
    return node;
  };

  const path = (messageId) => '/threads/' + P.state.threadId + '/messages/' + messageId;

  function textOf(message) {
    return (message.content || []).map((part) => (part.type === 'text' ? part.text : '')).join('');
  }

  // ---------------------------------------------------------------- decorating a message

  /** Adds the actions, the version arrows and the stored thinking to a bubble drawn from {@code message}. */
  function decorate(node, message) {
    if (message.role !== 'user' && message.role !== 'assistant') return;
    if (node.querySelector('[data-testid=message-actions]')) return;
    node.setAttribute('data-tree', 'ready');
    if (message.role === 'assistant' && message.thinking && !node.querySelector('[data-testid=message-thinking]')) {
      node.prepend(el('div', { class: 'thinking', 'data-testid': 'message-thinking', text: message.thinking }));
    }
    const bar = el('div', { class: 'message-bar' });
    const versions = message.versions || { index: 1, count: 1 };
    if (versions.count > 1) bar.append(versionArrows(message, versions));
    const actions = el('div', { class: 'message-actions', 'data-testid': 'message-actions', role: 'group', 'aria-label': 'Message actions' });
    if (message.role === 'user') {
      actions.append(action('edit', 'Edit and resend', () => startEdit(node, message)));
    } else {
      actions.append(action('regenerate', 'Regenerate', () => resend(message.id, 'regenerate', {})));
    }
    actions.append(action('copy', 'Copy', (button) => copy(button, textOf(message))));
    actions.append(action('delete', 'Delete', (button) => confirmDelete(button, message)));
    bar.append(actions);
    node.append(bar);
  }

  function action(name, label, onClick) {
    const button = el('button', { type: 'button', class: 'message-action', 'data-action': name,
      'data-testid': 'message-' + name, 'aria-label': label, title: label });
    button.addEventListener('click', () => onClick(button));
    return button;
  }

  function versionArrows(message, versions) {
    const prev = el('button', { type: 'button', class: 'version-arrow', 'data-testid': 'version-prev',
      'aria-label': 'Previous version', title: 'Previous version', 'data-icon': 'prev' });
    const next = el('button', { type: 'button', class: 'version-arrow', 'data-testid': 'version-next',
      'aria-label': 'Next version', title: 'Next version', 'data-icon': 'next' });
    prev.disabled = versions.index <= 1;
    next.disabled = versions.index >= versions.count;
    prev.addEventListener('click', () => switchVersion(message, versions.index - 1));
    next.addEventListener('click', () => switchVersion(message, versions.index + 1));
    const label = el('span', { class: 'version-label', 'data-testid': 'version-label',
      'aria-label': 'Version ' + versions.index + ' of ' + versions.count, text: versions.index + '/' + versions.count });
    return el('div', { class: 'versions-nav', 'data-testid': 'versions-nav' }, prev, label, next);
  }

  /** A bubble drawn while streaming gets its message id at the end: it is decorated then, from the stored message. */
  async function decorateLater(node) {
    const id = node.getAttribute('data-message-id');
    const threadId = P.state.threadId;
    if (!id || node.getAttribute('data-tree') || !threadId) return;
    node.setAttribute('data-tree', 'loading');
    try {
      const message = await P.api('GET', path(id));
      if (node.isConnected && P.state.threadId === threadId) decorate(node, message);
    } catch (e) {
      node.removeAttribute('data-tree'); // the message went away meanwhile: nothing to act on
    }
  }

  // ---------------------------------------------------------------- actions

  function busy() {
    return P.state.stream && !P.state.stream.finished;
  }

  /** An edit or regenerate sent while a run streams, waiting for its turn: {threadId, notice}, or null. */
  let waiting = null;

  function startEdit(node, message) {
    if (waiting || node.querySelector('[data-testid=edit-form]')) return;
    const bubble = node.querySelector('.bubble');
    const input = el('textarea', { class: 'edit-input', 'data-testid': 'edit-input', rows: '3', maxlength: '32000',
      'aria-label': 'Edited message' });
    input.value = textOf(message);
    const save = el('button', { type: 'submit', class: 'primary', 'data-testid': 'edit-send', text: 'Send' });
    const cancel = el('button', { type: 'button', 'data-testid': 'edit-cancel', text: 'Cancel' });
    const form = el('form', { class: 'edit-form', 'data-testid': 'edit-form' }, input, el('div', { class: 'edit-buttons' }, save, cancel));
    const close = () => { form.remove(); bubble.hidden = false; node.classList.remove('editing'); };
    cancel.addEventListener('click', close);
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') { e.preventDefault(); close(); }
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
    });
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (!input.value.trim()) return;
      save.disabled = true;
      resend(message.id, 'edit', { message: input.value }).then((sent) => {
        save.disabled = false;
        if (sent && form.isConnected) close();
      });
    });
    bubble.hidden = true;
    node.classList.add('editing');
    bubble.after(form);
    input.focus();
  }

  /**
   * Edits or regenerates as a streamed request; once the server answers (the run is stored and
   * started), the thread is drawn again and the page follows the run from its first event. While a
   * run streams, the request waits behind it ({@code if_busy: enqueue}): the page says so, goes on
   * showing the running answer, and draws the thread again once the waiting run has started. True
   * when the server took the request.
   */
  async function resend(messageId, verb, body) {
    if (waiting) return false;
    P.clearError();
    const threadId = P.state.threadId;
    const queue = busy();
    try {
      const controller = new AbortController();
      const response = await fetch(API + path(messageId) + '/' + verb, {
        method: 'POST',
        headers: P.authHeaders({ 'Content-Type': 'application/json', Accept: 'text/event-stream' }),
        body: JSON.stringify(Object.assign({ stream: true }, queue ? { if_busy: 'enqueue' } : {}, body)),
        signal: controller.signal,
      });
      if (!response.ok) throw new P.ApiError(response.status, await P.readProblem(response));
      controller.abort(); // the run goes on (on_disconnect: continue); the page follows it below
      if (queue) waitForTurn(threadId, verb);
      else if (P.state.threadId === threadId) await P.openThread(threadId);
      return true;
    } catch (err) {
      if (!(err && err.name === 'AbortError')) P.showError(err);
      return false;
    }
  }

  /** Shows that a queued edit or regenerate waits, and draws the thread again once no run of it is queued. */
  function waitForTurn(threadId, verb) {
    const notice = el('li', { class: 'queued-notice', 'data-testid': 'queued-notice', role: 'status',
      text: verb === 'edit' ? 'Your edit is sent once the current answer has ended.'
        : 'A new answer follows once the current one has ended.' });
    document.getElementById('message-list').append(notice);
    const mine = { threadId, notice };
    waiting = mine;
    const stop = () => {
      if (waiting === mine) waiting = null;
      notice.remove();
    };
    const check = async () => {
      if (waiting !== mine || P.state.threadId !== threadId) { stop(); return; }
      try {
        const runs = await P.api('GET', '/threads/' + threadId + '/runs?limit=100');
        if (runs.data.some((r) => r.status === 'queued')) { setTimeout(check, 300); return; }
      } catch (e) {
        setTimeout(check, 1000);
        return;
      }
      stop();
      if (P.state.threadId === threadId) await P.openThread(threadId);
    };
    setTimeout(check, 300);
  }

  async function switchVersion(message, index) {
    if (busy()) return;
    P.clearError();
    const threadId = P.state.threadId;
    try {
      const page = await P.api('GET', path(message.id) + '/versions?limit=100');
      const target = page.data.find((m) => m.versions.index === index);
      if (!target) return;
      await P.api('POST', path(target.id) + '/activate', {});
      if (P.state.threadId === threadId) await P.openThread(threadId);
    } catch (err) { P.showError(err); }
  }

  function confirmDelete(button, message) {
    if (button.getAttribute('data-testid') !== 'message-delete-confirm') {
      button.setAttribute('data-testid', 'message-delete-confirm');
      button.setAttribute('aria-label', 'Really delete this message and everything after it?');
      button.classList.add('confirming');
      button.textContent = 'Really delete?';
      setTimeout(() => {
        if (button.isConnected) {
          button.setAttribute('data-testid', 'message-delete');
          button.setAttribute('aria-label', 'Delete');
          button.classList.remove('confirming');
          button.textContent = '';
        }
      }, 4000);
      return;
    }
    remove(message);
  }

  async function remove(message) {
    if (busy()) return;
    P.clearError();
    const threadId = P.state.threadId;
    try {
      await P.api('DELETE', path(message.id));
      if (P.state.threadId === threadId) await P.openThread(threadId);
    } catch (err) { P.showError(err); }
  }

  async function copy(button, text) {
    try {
      await navigator.clipboard.writeText(text);
    } catch (e) {
      // no clipboard permission (an insecure origin, a headless browser): the old way
      const area = el('textarea', { class: 'visually-hidden', 'aria-hidden': 'true' });
      area.value = text;
      document.body.append(area);
      area.select();
      document.execCommand('copy');
      area.remove();
    }
    button.setAttribute('data-copied', 'true');
    setTimeout(() => button.removeAttribute('data-copied'), 1500);
  }

  // ---------------------------------------------------------------- wiring

  P.messageDecorators.push(decorate);

  document.addEventListener('DOMContentLoaded', () => {
    const list = document.getElementById('message-list');
    new MutationObserver((changes) => {
      for (const change of changes) {
        const node = change.target;
        if (change.type === 'attributes' && node.matches('li.message[data-message-id]')
            && (node.getAttribute('data-role') === 'user' || node.getAttribute('data-role') === 'assistant')
            && !node.hasAttribute('data-streaming')) {
          decorateLater(node);
        }
      }
    }).observe(list, { subtree: true, attributes: true, attributeFilter: ['data-message-id', 'data-streaming'] });
  });
})();
