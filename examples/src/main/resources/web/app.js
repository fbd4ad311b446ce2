/*
 * Parley demo chat page. Plain JavaScript, no build step, no network but the Parley server.
 * Streams runs with fetch() + ReadableStream (EventSource can neither POST nor send headers),
 * and resumes a dropped stream from GET .../runs/{run_id}/events with Last-Event-ID.
 */
(function () {
  'use strict';

  const API = '/api/v1';
  const STORAGE_KEY = 'parley.session';
  const TERMINAL = new Set(['done', 'error', 'cancelled']);
  const RECONNECT_ATTEMPTS = 12;

  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs, ...children) => {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null) continue;
      if (key === 'class') node.className = value;
      else if (key === 'text') node.textContent = value;
      else if (key.startsWith('data-') || key === 'title' || key === 'type' || key.startsWith('aria-')) node.setAttribute(key, value);
      else node[key] = value;
    }
    for (const child of children) if (child) node.append(child);
    return node;
  };

  /** Where the page's feature files (loaded after this one) plug in: see window.Parley below. */
  const hooks = {
    event: null, // (stream, type, data) for run events this file does not handle itself
    done: null, // (stream, data) after a run's done event was drawn (settings.js: an answer cut at the output limit)
    chatOptions: null, // () => more members of a chat request (settings.js: the run's model_settings)
  };

  const state = {
    token: null,
    user: null,
    agents: [],
    threads: [],
    threadsCursor: null,
    threadId: null,
    thread: null,
    olderCursor: null,
    stream: null, // the run being followed on the open thread
  };
  /** Functions (bubble node, message JSON, its run's JSON or undefined) that feature files add to decorate each message drawn from history. */
  const messageDecorators = [];
  /** Functions (error) that feature files add to word an error for the banner; the first non-null text wins. */
  const errorDescribers = [];

  // ---------------------------------------------------------------- errors and HTTP

  class ApiError extends Error {
    constructor(status, problem) {
      const detail = problem && (problem.detail || problem.title);
      super(detail || ('HTTP ' + status));
      this.status = status;
      this.code = (problem && problem.code) || 'http_' + status;
      this.problem = problem;
      // the server's id of the failed request: a user quotes it, an operator finds its log lines and trace
      this.requestId = (problem && problem.request_id) || null;
    }
  }

  function showError(err) {
    const described = errorDescribers.map((describe) => describe(err)).find((text) => text);
    const text = described || (err instanceof ApiError ? err.message + ' (' + err.code + ')' : String(err && err.message || err));
    $('error-text').textContent = text;
    const requestId = err instanceof ApiError ? err.requestId : null;
    $('error-request-id').textContent = requestId || '';
    $('error-request').hidden = !requestId;
    $('error-banner').hidden = false;
  }

  function clearError() {
    $('error-banner').hidden = true;
    $('error-text').textContent = '';
    $('error-request-id').textContent = '';
    $('error-request').hidden = true;
  }

  function authHeaders(extra) {
    const headers = Object.assign({ Accept: 'application/json' }, extra || {});
    if (state.token) headers.Authorization = 'Bearer ' + state.token;
    return headers;
  }

  /** The problem+json of a failed response, with the request id of its X-Request-Id header when the body has none. */
  async function readProblem(response) {
    const text = await response.text();
    let problem;
    try { problem = text ? JSON.parse(text) : null; } catch (e) { problem = { detail: text.slice(0, 200) }; }
    const requestId = response.headers.get('X-Request-Id');
    if (requestId && (!problem || typeof problem !== 'object' || !problem.request_id)) {
      problem = Object.assign({}, problem && typeof problem === 'object' ? problem : {}, { request_id: requestId });
    }
    const retryAfter = Number(response.headers.get('Retry-After'));
    if (problem && typeof problem === 'object' && retryAfter > 0 && problem.retry_after === undefined) problem.retry_after = retryAfter;
    return problem;
  }

  async function api(method, path, body) {
    const headers = authHeaders(body === undefined ? {} : { 'Content-Type': 'application/json' });
    const response = await fetch(API + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (response.status === 401) {
      signOut('Your session has expired: please sign in again.');
      throw new ApiError(401, await readProblem(response));
    }
    if (!response.ok) throw new ApiError(response.status, await readProblem(response));
    if (response.status === 204) return null;
    const text = await response.text();
    return text ? JSON.parse(text) : null;
  }

  // ---------------------------------------------------------------- session

  function saveSession() {
    localStorage.setItem(STORAGE_KEY, JSON.stringify({ token: state.token, user: state.user }));
  }

  function loadSession() {
    try {
      const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) || 'null');
      if (saved && saved.token) {
        state.token = saved.token;
        state.user = saved.user || subjectOf(saved.token) || 'unknown';
        return true;
      }
    } catch (e) { /* ignore a corrupt entry */ }
    return false;
  }

  function subjectOf(token) {
    try {
      const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      return JSON.parse(atob(payload)).sub || null;
    } catch (e) { return null; }
  }

  function showLogin(message) {
    closeDrawer(false);
    closeSheet(false);
    $('chat-view').hidden = true;
    $('session-box').hidden = true;
    $('login-view').hidden = false;
    const error = $('login-error');
    error.textContent = message || '';
    error.hidden = !message;
    $('login-user').focus();
  }

  function signOut(message) {
    detachStream();
    state.token = null;
    state.user = null;
    state.threadId = null;
    localStorage.removeItem(STORAGE_KEY);
    history.replaceState(null, '', location.pathname);
    showLogin(message);
  }

  async function login(event) {
    event.preventDefault();
    const user = $('login-user').value.trim();
    if (!user) return;
    $('login-submit').disabled = true;
    try {
      const response = await fetch('/dev/login', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ user }),
      });
      if (response.status === 404) {
        $('token-login').open = true;
        throw new Error('This server has no dev login: sign in with a token.');
      }
      if (!response.ok) throw new ApiError(response.status, await readProblem(response));
      const body = await response.json();
      await startSession(body.token, user);
    } catch (err) {
      showLogin(err.message);
    } finally {
      $('login-submit').disabled = false;
    }
  }

  async function loginWithToken() {
    const token = $('login-token').value.trim();
    if (!token) return;
    await startSession(token, subjectOf(token) || 'unknown');
  }

  async function startSession(token, user) {
    state.token = token;
    state.user = user;
    saveSession();
    await showChat();
  }

  /** A fresh token for the same session (a refreshed one from the identity provider). */
  function setToken(token) {
    state.token = token;
    saveSession();
  }

  // ---------------------------------------------------------------- chat view

  async function showChat() {
    $('login-view').hidden = true;
    $('chat-view').hidden = false;
    $('session-box').hidden = false;
    $('user-name').textContent = state.user;
    clearError();
    try {
      await Promise.all([loadAgents(), loadThreads()]);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) showError(err);
      return;
    }
    const wanted = location.hash.slice(1);
    if (wanted && state.threads.some((t) => t.id === wanted)) {
      await openThread(wanted);
    } else {
      newConversation();
    }
  }

  // the agents the user may start a thread with: built-in, shared, then their own, each group labelled
  const AGENT_GROUPS = [
    ['Built-in', (a) => a.builtin !== false],
    ['Shared', (a) => a.builtin === false && a.visibility === 'shared'],
    ['Mine', (a) => a.builtin === false && a.visibility !== 'shared'],
  ];

  async function loadAgents() {
    const page = await fetch(API + '/agents?limit=100', { headers: authHeaders() }).then((r) => r.json());
    state.agents = page.data || page;
    const groups = AGENT_GROUPS
      .map(([label, test]) => [label, state.agents.filter(test)])
      .filter(([, agents]) => agents.length > 0)
      .map(([label, agents]) => el('optgroup', { label, 'data-testid': 'agent-group' },
        ...agents.map((a) => el('option', { value: a.id, text: agentLabel(a) }))));
    $('agent-select').replaceChildren(...groups);
  }

  function agentLabel(agent) {
    return agent.builtin === false ? agent.name + ' (v' + agent.version + ')' : agent.name + ' (' + agent.id + ')';
  }

  /** "name · v2 (pinned)" for a pinned thread, "name · latest v3" for a stored agent, the name for a built-in one. */
  function agentHeading(agentId, thread) {
    const agent = state.agents.find((a) => a.id === agentId);
    const name = agent ? agent.name : agentId;
    if (thread && thread.agent_version) return name + ' · v' + thread.agent_version + ' (pinned)';
    return agent && agent.builtin === false ? name + ' · latest v' + agent.version : name;
  }

  async function loadThreads(more) {
    const query = '?limit=50' + (more && state.threadsCursor ? '&cursor=' + encodeURIComponent(state.threadsCursor) : '');
    const page = await api('GET', '/threads' + query);
    state.threads = more ? state.threads.concat(page.data) : page.data;
    state.threadsCursor = page.has_more ? page.next_cursor : null;
    renderThreads();
  }

  function renderThreads() {
    const list = $('thread-list');
    // a title being edited is not thrown away: the list is drawn again when the edit ends
    if (list.querySelector('.thread-item.editing')) return;
    // keep the keyboard focus on the same control of the same thread
    const focused = document.activeElement;
    const focusedItem = focused && list.contains(focused) ? focused.closest('.thread-item') : null;
    const focusKey = focusedItem ? [focusedItem.getAttribute('data-thread-id'), focused.getAttribute('data-testid')] : null;
    list.replaceChildren(...state.threads.map(threadItem));
    $('more-threads').hidden = !state.threadsCursor;
    if (focusKey) {
      const item = Array.from(list.children).find((li) => li.getAttribute('data-thread-id') === focusKey[0]);
      const target = item && (item.querySelector('[data-testid="' + focusKey[1] + '"]') || item.querySelector('.thread-open'));
      if (target) target.focus();
    }
  }

  function threadLabel(thread) {
    return thread.title || 'New conversation';
  }

  function threadItem(thread) {
    const active = thread.id === state.threadId;
    const title = el('span', {
      class: 'thread-title' + (thread.title ? '' : ' untitled'),
      'data-testid': 'thread-title',
      text: threadLabel(thread),
      title: thread.title || '',
    });
    const open = el('button', { type: 'button', class: 'thread-open', 'data-testid': 'thread-open', 'aria-current': active ? 'true' : null }, title);
    const rename = el('button', {
      type: 'button', class: 'link', 'data-testid': 'thread-rename', text: 'Rename', 'aria-label': 'Rename ' + threadLabel(thread),
    });
    const remove = el('button', {
      type: 'button', class: 'link', 'data-testid': 'thread-delete', text: 'Delete', 'aria-label': 'Delete ' + threadLabel(thread),
    });
    const item = el('li', {
      class: 'thread-item' + (active ? ' active' : ''),
      'data-testid': 'thread-item',
      'data-thread-id': thread.id,
    }, open, el('span', { class: 'thread-actions' }, rename, remove));
    item.addEventListener('click', () => {
      if (item.classList.contains('editing')) return;
      closeDrawer(true);
      if (thread.id !== state.threadId) openThread(thread.id);
    });
    rename.addEventListener('click', (e) => { e.stopPropagation(); startRename(item, thread); });
    remove.addEventListener('click', (e) => { e.stopPropagation(); confirmDelete(item, remove, thread); });
    return item;
  }

  /** Shows a thread's new title in its list item and, when it is open, in the heading. */
  function showThreadTitle(thread) {
    replaceThread(thread);
    if (thread.id === state.threadId) { state.thread = thread; showThreadHeading(thread); }
    const item = Array.from($('thread-list').children).find((li) => li.getAttribute('data-thread-id') === thread.id);
    const title = item && item.querySelector('[data-testid="thread-title"]');
    if (!title) return;
    title.textContent = threadLabel(thread);
    title.title = thread.title || '';
    title.classList.toggle('untitled', !thread.title);
    item.querySelector('[data-testid="thread-rename"]').setAttribute('aria-label', 'Rename ' + threadLabel(thread));
    const remove = item.querySelector('[data-testid="thread-delete"]');
    if (remove) remove.setAttribute('aria-label', 'Delete ' + threadLabel(thread));
  }

  /** A new thread takes its title from the first message as the run starts: shown at once, not after the run. */
  async function refreshTitle(threadId) {
    const known = state.threads.find((t) => t.id === threadId);
    if (known && known.title) return;
    try {
      const thread = await api('GET', '/threads/' + threadId);
      if (thread.title) showThreadTitle(thread);
    } catch (e) { /* the list is refreshed when the run ends */ }
  }

  function startRename(item, thread) {
    item.classList.add('editing');
    const input = el('input', {
      value: thread.title || '', 'data-testid': 'rename-input', maxLength: 200, 'aria-label': 'New title for ' + threadLabel(thread),
    });
    item.querySelector('.thread-open').replaceWith(input);
    input.focus();
    input.select();
    let finished = false;
    const finish = async (save) => {
      if (finished) return;
      finished = true;
      const title = input.value.trim();
      if (save && title && title !== thread.title) {
        try {
          const updated = await api('PATCH', '/threads/' + thread.id, { title });
          replaceThread(updated);
          if (updated.id === state.threadId) showThreadHeading(updated);
        } catch (err) { showError(err); }
      }
      item.classList.remove('editing');
      const hadFocus = document.activeElement === input;
      renderThreads();
      if (hadFocus) {
        const again = Array.from($('thread-list').children).find((li) => li.getAttribute('data-thread-id') === thread.id);
        if (again) again.querySelector('[data-testid="thread-rename"]').focus();
      }
    };
    input.addEventListener('click', (e) => e.stopPropagation());
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') { e.preventDefault(); finish(true); }
      if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); finish(false); }
    });
    input.addEventListener('blur', () => finish(true));
  }

  function confirmDelete(item, button, thread) {
    if (!item.classList.contains('confirming')) {
      item.classList.add('confirming');
      button.textContent = 'Really delete?';
      button.setAttribute('data-testid', 'thread-delete-confirm');
      button.setAttribute('aria-label', 'Really delete ' + threadLabel(thread) + '?');
      setTimeout(() => {
        if (item.isConnected) {
          item.classList.remove('confirming');
          button.textContent = 'Delete';
          button.setAttribute('data-testid', 'thread-delete');
          button.setAttribute('aria-label', 'Delete ' + threadLabel(thread));
        }
      }, 4000);
      return;
    }
    deleteThread(thread);
  }

  async function deleteThread(thread) {
    try {
      await api('DELETE', '/threads/' + thread.id);
      state.threads = state.threads.filter((t) => t.id !== thread.id);
      const hadFocus = $('thread-list').contains(document.activeElement);
      if (thread.id === state.threadId) newConversation(); else renderThreads();
      if (hadFocus) $('new-thread').focus();
    } catch (err) { showError(err); }
  }

  function replaceThread(updated) {
    const index = state.threads.findIndex((t) => t.id === updated.id);
    if (index >= 0) state.threads[index] = updated;
  }

  function showThreadHeading(thread) {
    $('thread-heading').textContent = thread ? (thread.title || 'New conversation') : 'New conversation';
    const agent = thread ? thread.agent_id : $('agent-select').value;
    $('thread-agent').textContent = agent ? 'agent: ' + agentHeading(agent, thread) : '';
    if (window.Parley.onThreadShown) window.Parley.onThreadShown(thread);
  }

  function newConversation() {
    leaveEditor();
    detachStream();
    state.threadId = null;
    state.thread = null;
    state.olderCursor = null;
    history.replaceState(null, '', location.pathname);
    $('message-list').replaceChildren();
    $('trace-list').replaceChildren();
    $('older-messages').hidden = true;
    updateEmptyHints();
    showThreadHeading(null);
    setBusy(false);
    renderThreads();
    $('message-input').focus();
  }

  function leaveEditor() {
    if (window.Parley.onLeaveViews) window.Parley.onLeaveViews();
    $('agent-editor').hidden = true;
    document.querySelector('.conversation').hidden = false;
  }

  async function openThread(threadId) {
    leaveEditor();
    detachStream();
    clearError();
    state.threadId = threadId;
    state.thread = state.threads.find((t) => t.id === threadId) || null;
    history.replaceState(null, '', '#' + threadId);
    renderThreads();
    showThreadHeading(state.thread);
    $('message-list').replaceChildren();
    $('trace-list').replaceChildren();
    setBusy(false);
    try {
      // the runs first: a run that ended in between has its messages in the history read after
      const runs = await api('GET', '/threads/' + threadId + '/runs?limit=100');
      const messages = await api('GET', '/threads/' + threadId + '/messages?order=desc&limit=100');
      if (state.threadId !== threadId) return;
      state.olderCursor = messages.has_more ? messages.next_cursor : null;
      $('older-messages').hidden = !state.olderCursor;
      // a run still going (the oldest: runs come newest first) is drawn by replaying its events from the start, so what it stored so far
      // (tool-call messages, their traces) is left out of the history: shown once, not twice
      const active = runs.data.filter((r) => r.status === 'in_progress' || r.status === 'queued' || r.status === 'requires_action').pop();
      const settled = active ? messages.data.filter((m) => m.run_id !== active.id || m.role === 'user') : messages.data;
      renderHistory(settled.slice().reverse(), runs.data);
      await loadTraces(threadId, settled, runs.data);
      if (active && state.threadId === threadId) follow(threadId, active.id);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        state.threads = state.threads.filter((t) => t.id !== threadId);
        newConversation();
      }
      showError(err);
    }
    updateEmptyHints();
    scrollToEnd(true);
  }

  async function loadOlderMessages() {
    if (!state.threadId || !state.olderCursor) return;
    try {
      const page = await api('GET', '/threads/' + state.threadId + '/messages?order=desc&limit=100&cursor='
        + encodeURIComponent(state.olderCursor));
      state.olderCursor = page.has_more ? page.next_cursor : null;
      $('older-messages').hidden = !state.olderCursor;
      const list = $('message-list');
      const nodes = page.data.slice().reverse().flatMap(messageNodes);
      list.prepend(...nodes);
    } catch (err) { showError(err); }
  }

  function renderHistory(messages, runs) {
    const list = $('message-list');
    const finished = runs.filter((r) => r.status !== 'in_progress' && r.status !== 'queued');
    // a run's summary goes after its last message or, when it left none (a failure before any
    // text), after the user message that started it: the last one sent before the run was made
    const lastIndexOfRun = new Map();
    const questionOfRun = new Map();
    messages.forEach((m, i) => { if (m.run_id) (m.role === 'user' ? questionOfRun : lastIndexOfRun).set(m.run_id, i); });
    // user messages that name their runs: a completed run with no answer here answered on another branch
    const onBranches = messages.some((m) => m.role === 'user' && m.run_id);
    const metasAfter = new Map();
    for (const run of finished) {
      let index = lastIndexOfRun.get(run.id);
      if (index === undefined && onBranches) {
        index = run.status === 'completed' ? undefined : questionOfRun.get(run.id);
        if (index === undefined) continue;
      }
      if (index === undefined) {
        const created = Date.parse(run.created_at);
        index = -1;
        messages.forEach((m, i) => { if (m.role === 'user' && Date.parse(m.created_at) <= created) index = i; });
        if (index < 0) continue;
      }
      if (!metasAfter.has(index)) metasAfter.set(index, []);
      metasAfter.get(index).push(run);
    }
    const runById = new Map(finished.map((r) => [r.id, r]));
    messages.forEach((m, i) => {
      list.append(...messageNodes(m, runById.get(m.run_id)));
      for (const run of (metasAfter.get(i) || []).sort((a, b) => a.created_at.localeCompare(b.created_at))) {
        list.append(runMeta(run));
      }
    });
  }

  function messageNodes(message, run) {
    const nodes = [];
    const text = textOf(message.content);
    if (message.role === 'tool') {
      nodes.push(resultChip(text, message.id));
      return nodes;
    }
    if (text || !(message.tool_calls && message.tool_calls.length)) {
      const node = bubble(message.role, text, message.status, message.id);
      messageDecorators.forEach((decorate) => decorate(node, message, run));
      nodes.push(node);
    }
    for (const call of message.tool_calls || []) nodes.push(toolCallChip(call.name, call.arguments));
    return nodes;
  }

  function bubble(role, text, status, id) {
    return el('li', {
      class: 'message',
      'data-testid': 'message',
      'data-role': role,
      'data-status': status || 'completed',
      'data-message-id': id,
    }, el('div', { class: 'bubble', 'data-testid': 'message-text', text: text || '' }));
  }

  function resultChip(text, id) {
    const shown = text === null || text === undefined ? '' : String(text);
    return el('li', { class: 'message', 'data-testid': 'message', 'data-role': 'tool', 'data-message-id': id },
      el('div', { class: 'tool-chip', 'data-testid': 'message-text' },
        el('span', { class: 'chip-label', text: 'result' }), ' ' + shown));
  }

  function toolCallChip(name, args) {
    return el('li', { class: 'message tool-call', 'data-testid': 'tool-call', 'data-role': 'tool-call' },
      el('div', { class: 'tool-chip' },
        el('span', { class: 'chip-label', text: 'tool call' }), ' ' + name + ' ' + formatArgs(args)));
  }

  function textOf(content) {
    if (typeof content === 'string') return content;
    return (content || []).map((part) => part.type === 'text' ? part.text : part.type === 'image_url' ? '[image]' : '').join('');
  }

  function formatArgs(args) {
    if (args === undefined || args === null) return '{}';
    return typeof args === 'string' ? args : JSON.stringify(args);
  }

  function formatCost(cost) {
    if (cost === null || cost === undefined || cost === '') return null;
    const value = Number(cost);
    if (!isFinite(value)) return null;
    return '$' + value.toFixed(8).replace(/0+$/, '').replace(/\.$/, '.00');
  }

  function runMeta(run) {
    const meta = el('li', { class: 'run-meta', 'data-testid': 'run-meta', 'data-run-id': run.id, 'data-run-status': run.status });
    fillRunMeta(meta, run.status, run.usage, run.cost_usd, run.error, run.instructions, run.agent_version);
    return meta;
  }

  function fillRunMeta(meta, status, usage, cost, error, instructions, agentVersion) {
    meta.setAttribute('data-run-status', status);
    const parts = [el('span', { class: 'status ' + status, 'data-testid': 'run-status', text: status.replace('_', ' ') })];
    // which version of the agent answered: runs record it
    if (agentVersion) parts.push(el('span', { 'data-testid': 'run-agent-version', text: 'agent v' + agentVersion }));
    if (usage) {
      parts.push(el('span', {
        'data-testid': 'run-usage',
        text: usage.input_tokens + ' in' + (usage.input_cached_tokens ? ' (' + usage.input_cached_tokens + ' cached)' : '')
          + ' · ' + usage.output_tokens + ' out · ' + usage.total_tokens + ' tokens',
      }));
    }
    const costText = formatCost(cost);
    if (costText) parts.push(el('span', { 'data-testid': 'run-cost', text: costText }));
    if (error) parts.push(el('span', { class: 'run-error', 'data-testid': 'run-error', text: error.message + ' (' + error.code + ')' }));
    if (instructions) {
      parts.push(el('details', { class: 'run-instructions', 'data-testid': 'run-instructions' },
        el('summary', { text: 'Instructions' }), el('span', { 'data-testid': 'run-instructions-text', text: instructions })));
    }
    meta.replaceChildren(...parts);
  }

  async function loadTraces(threadId, messages, runs) {
    const withTools = new Set(messages.filter((m) => m.tool_calls && m.tool_calls.length).map((m) => m.run_id));
    const traced = runs.filter((r) => withTools.has(r.id)).slice(0, 10).reverse();
    for (const run of traced) {
      const full = await api('GET', '/threads/' + threadId + '/runs/' + run.id);
      if (state.threadId !== threadId) return;
      for (const step of full.steps || []) {
        if (step.type !== 'tool_call' || !step.tool_call) continue;
        const item = traceItem(step.id, step.tool_call.name, step.tool_call.arguments);
        endTrace(item, step.status, step.tool_call.output, step.tool_call.error, step.latency_ms);
      }
    }
    updateEmptyHints();
  }

  function traceItem(stepId, name, args) {
    const item = el('li', { class: 'trace-item', 'data-testid': 'trace-item', 'data-step-id': stepId, 'data-status': 'in_progress' },
      el('header', {},
        el('span', { class: 'trace-tool', 'data-testid': 'trace-tool', text: name }),
        el('span', { class: 'status in_progress', 'data-testid': 'trace-status', text: 'running' })),
      el('dl', {},
        el('dt', { text: 'arguments' }), el('dd', { 'data-testid': 'trace-arguments', text: formatArgs(args) }),
        el('dt', { text: 'output' }), el('dd', { class: 'trace-output', 'data-testid': 'trace-output', text: '…' }),
        el('dt', { text: 'latency' }), el('dd', { 'data-testid': 'trace-latency', text: '…' })));
    $('trace-list').append(item);
    $('trace-empty').hidden = true;
    return item;
  }

  function endTrace(item, status, output, error, latency) {
    item.setAttribute('data-status', status);
    const badge = item.querySelector('[data-testid="trace-status"]');
    badge.textContent = status;
    badge.className = 'status ' + status;
    item.querySelector('[data-testid="trace-output"]').textContent =
      error ? 'error: ' + error : (output === null || output === undefined ? '' : String(output));
    item.querySelector('[data-testid="trace-latency"]').textContent = latency === null || latency === undefined ? '' : latency + ' ms';
  }

  function updateEmptyHints() {
    $('empty-hint').hidden = $('message-list').children.length > 0;
    const traces = $('trace-list').children.length;
    $('trace-empty').hidden = traces > 0;
    const count = $('trace-count');
    count.textContent = String(traces);
    count.hidden = traces === 0;
  }

  function scrollToEnd(force) {
    const box = $('message-scroll');
    const nearEnd = box.scrollHeight - box.scrollTop - box.clientHeight < 120;
    if (force || nearEnd) box.scrollTop = box.scrollHeight;
  }

  function setBusy(busy) {
    const focused = document.activeElement;
    const send = $('send-button');
    const stopButton = $('stop-button');
    const losesFocus = (busy && focused === send) || (!busy && focused === stopButton);
    send.disabled = busy;
    stopButton.disabled = !busy;
    if (losesFocus) $('message-input').focus();
  }

  function setConnection(text) {
    const status = $('connection-status');
    status.textContent = text || '';
    status.hidden = !text;
  }

  // ---------------------------------------------------------------- sending and streaming

  async function send(event) {
    if (event) event.preventDefault();
    const input = $('message-input');
    const text = input.value;
    if (!text.trim() || (state.stream && !state.stream.finished)) return;
    clearError();
    setBusy(true);
    try {
      if (!state.threadId) {
        const thread = await api('POST', '/threads', { agent_id: $('agent-select').value || undefined });
        state.threads.unshift(thread);
        state.threadId = thread.id;
        state.thread = thread;
        history.replaceState(null, '', '#' + thread.id);
        showThreadHeading(thread);
        renderThreads();
      }
      input.value = '';
      const threadId = state.threadId;
      const userBubble = bubble('user', text, 'completed');
      $('message-list').append(userBubble);
      updateEmptyHints();
      scrollToEnd(true);
      const stream = newStream(threadId);
      stream.userBubble = userBubble;
      const response = await fetch(API + '/threads/' + threadId + '/chat', {
        method: 'POST',
        headers: authHeaders({ 'Content-Type': 'application/json', Accept: 'text/event-stream' }),
        body: JSON.stringify({ message: text, stream: true, ...(hooks.chatOptions ? hooks.chatOptions() : {}) }),
        signal: stream.controller.signal,
      });
      if (!response.ok) {
        userBubble.remove();
        input.value = text;
        finishStream(stream);
        updateEmptyHints();
        if (response.status === 401) { signOut('Your session has expired: please sign in again.'); return; }
        throw new ApiError(response.status, await readProblem(response));
      }
      await consume(stream, response);
    } catch (err) {
      setBusy(false);
      if (!(err && err.name === 'AbortError')) showError(err);
    }
  }

  function newStream(threadId) {
    const stream = {
      threadId,
      runId: null,
      lastSeq: 0,
      controller: new AbortController(),
      finished: false,
      detached: false,
      dropped: false,
      view: null,
      traces: new Map(),
    };
    state.stream = stream;
    setBusy(true);
    return stream;
  }

  function follow(threadId, runId) {
    const stream = newStream(threadId);
    stream.runId = runId;
    reconnect(stream, true);
  }

  function finishStream(stream) {
    stream.finished = true;
    if (state.stream === stream) {
      state.stream = null;
      setBusy(false);
      setConnection(null);
    }
  }

  /** Stops reading the open thread's stream (the run goes on server-side). */
  function detachStream() {
    const stream = state.stream;
    if (stream) {
      stream.detached = true;
      stream.controller.abort();
      finishStream(stream);
    }
  }

  async function consume(stream, response) {
    // the request that started the run: its id goes with a failure of the run (the run's log lines carry it too)
    stream.requestId = stream.requestId || response.headers.get('X-Request-Id');
    try {
      await readEvents(response, stream.controller.signal, (event) => handleEvent(stream, event));
    } catch (err) {
      if (stream.detached) return;
      // a dropped connection: resumed below
    }
    if (stream.finished || stream.detached) return;
    await reconnect(stream, false);
  }

  async function reconnect(stream, joining) {
    let refused = false; // a 429 is shown while retrying, and cleared once the stream is back
    for (let attempt = 0; attempt < RECONNECT_ATTEMPTS && !stream.finished && !stream.detached; attempt++) {
      if (!joining || attempt > 0) {
        setConnection('Connection lost: reconnecting…');
        await new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** attempt, 5000)));
      }
      if (stream.detached) return;
      try {
        if (!stream.runId) {
          const runs = await api('GET', '/threads/' + stream.threadId + '/runs?limit=1');
          if (!runs.data.length) throw new Error('The run could not be found.');
          stream.runId = runs.data[0].id;
        }
        stream.controller = new AbortController();
        stream.dropped = false;
        const headers = authHeaders({ Accept: 'text/event-stream' });
        if (stream.lastSeq > 0) headers['Last-Event-ID'] = String(stream.lastSeq);
        const response = await fetch(API + '/threads/' + stream.threadId + '/runs/' + stream.runId + '/events', {
          headers,
          signal: stream.controller.signal,
        });
        if (response.status === 401) { signOut('Your session has expired: please sign in again.'); return; }
        if (!response.ok) throw new ApiError(response.status, await readProblem(response));
        setConnection(null);
        if (refused) { clearError(); refused = false; }
        await readEvents(response, stream.controller.signal, (event) => handleEvent(stream, event));
      } catch (err) {
        if (stream.detached) return;
        if (err instanceof ApiError && err.status >= 400 && err.status < 500 && err.status !== 429) {
          showError(err);
          break;
        }
        if (err instanceof ApiError && err.status === 429) { showError(err); refused = true; } // said while it retries
      }
    }
    if (!stream.finished && !stream.detached) {
      showError(new Error('The connection to the server was lost. Reload the page to see the run\'s outcome.'));
      finishStream(stream);
    }
  }

  /** Reads a text/event-stream body, calling onEvent({id, event, data}) per event. */
  async function readEvents(response, signal, onEvent) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    const abort = () => reader.cancel().catch(() => {});
    signal.addEventListener('abort', abort, { once: true });
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let keepCr = buffer.endsWith('\r');
        if (keepCr) buffer = buffer.slice(0, -1);
        buffer = buffer.replace(/\r\n?/g, '\n');
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = parseBlock(block);
          if (event) onEvent(event);
        }
        if (keepCr) buffer += '\r';
      }
      if (signal.aborted) throw new DOMException('aborted', 'AbortError');
    } finally {
      signal.removeEventListener('abort', abort);
    }
  }

  function parseBlock(block) {
    let id = null;
    let type = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (!line || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'id') id = value;
      else if (field === 'event') type = value;
      else if (field === 'data') data.push(value);
    }
    if (!data.length) return null;
    try {
      return { id, event: type, data: JSON.parse(data.join('\n')) };
    } catch (e) {
      return null;
    }
  }

  function ensureView(stream) {
    if (!stream.view) {
      const message = bubble('assistant', '', 'completed');
      message.setAttribute('data-streaming', 'true');
      const meta = el('li', { class: 'run-meta', 'data-testid': 'run-meta', 'data-run-status': 'in_progress' });
      if (stream.runId) meta.setAttribute('data-run-id', stream.runId);
      fillRunMeta(meta, 'in_progress', null, null, null);
      stream.view = { message, text: message.querySelector('.bubble'), tokens: null, meta, thinking: null };
      if (stream.threadId === state.threadId && !stream.detached) {
        $('message-list').append(message, meta);
        updateEmptyHints();
      }
    }
    return stream.view;
  }

  function handleEvent(stream, event) {
    const data = event.data || {};
    const type = data.type || event.event;
    if (type === 'heartbeat') return;
    const seq = Number(data.seq || event.id || 0);
    if (seq && seq <= stream.lastSeq) return; // already seen before a reconnect
    if (seq) stream.lastSeq = seq;
    if (data.run_id && !stream.runId) stream.runId = data.run_id;
    const view = ensureView(stream);
    if (stream.runId) view.meta.setAttribute('data-run-id', stream.runId);
    switch (type) {
      case 'run_started':
        if (stream.userBubble && data.message_id) stream.userBubble.setAttribute('data-message-id', data.message_id);
        refreshTitle(stream.threadId);
        break;
      case 'token':
        // one text node per answer: a long answer stays one node to lay out, not thousands
        if (!view.tokens) {
          view.tokens = document.createTextNode('');
          view.text.append(view.tokens);
        }
        view.tokens.appendData(data.content || '');
        break;
      case 'thinking':
        if (!view.thinking) {
          view.thinking = el('div', { class: 'thinking', 'data-testid': 'message-thinking' });
          view.message.prepend(view.thinking);
        }
        view.thinking.append(document.createTextNode(data.content || ''));
        break;
      case 'trace_start': {
        const call = data.tool_call || {};
        view.message.before(toolCallChip(call.name, call.arguments));
        stream.traces.set(data.step_id, traceItem(data.step_id, call.name, call.arguments));
        updateEmptyHints();
        break;
      }
      case 'trace_update': {
        const item = stream.traces.get(data.step_id);
        if (item) item.querySelector('[data-testid="trace-output"]').textContent = data.content || '';
        break;
      }
      case 'trace_end': {
        const item = stream.traces.get(data.step_id);
        if (item) endTrace(item, data.status, data.output, data.error, data.latency_ms);
        // the tool's result as history shows it: its output, or "error: " and the error
        view.message.before(resultChip(data.error ? 'error: ' + data.error : data.output, null));
        break;
      }
      case 'done':
        endRun(stream, 'completed', data.usage, data.cost_usd, null, data.message_id);
        if (hooks.done) hooks.done(stream, data);
        break;
      case 'error':
        endRun(stream, 'failed', null, null, { code: data.code, message: data.message }, null);
        showError(new ApiError(0, { detail: 'The run failed: ' + data.message, code: data.code, request_id: stream.requestId }));
        break;
      case 'cancelled':
        endRun(stream, 'cancelled', null, null, null, data.message_id);
        break;
      default:
        if (hooks.event) hooks.event(stream, type, data);
        break;
    }
    scrollSoon();
  }

  // at most one scroll (and so one forced layout) per frame, however fast events arrive
  let scrollPending = false;
  function scrollSoon() {
    if (scrollPending) return;
    scrollPending = true;
    requestAnimationFrame(() => {
      scrollPending = false;
      scrollToEnd(false);
    });
  }

  function endRun(stream, status, usage, cost, error, messageId) {
    const view = stream.view;
    view.message.removeAttribute('data-streaming');
    if (messageId) view.message.setAttribute('data-message-id', messageId);
    if (status !== 'completed') view.message.setAttribute('data-status', 'incomplete');
    if (!view.text.textContent && status !== 'completed') view.message.remove();
    fillRunMeta(view.meta, status, usage, cost, error);
    finishStream(stream);
    stream.controller.abort();
    if (stream.runId) refreshRunMeta(stream.threadId, stream.runId, view.meta);
    refreshThreadList();
  }

  async function refreshRunMeta(threadId, runId, meta) {
    try {
      const run = await api('GET', '/threads/' + threadId + '/runs/' + runId);
      fillRunMeta(meta, run.status, run.usage, run.cost_usd, run.error, run.instructions, run.agent_version);
    } catch (e) { /* the live values stay */ }
  }

  async function refreshThreadList() {
    try {
      await loadThreads(false);
      const current = state.threads.find((t) => t.id === state.threadId);
      if (current) { state.thread = current; showThreadHeading(current); }
    } catch (e) { /* keep the old list */ }
  }

  async function stop() {
    const stream = state.stream;
    if (!stream || !state.threadId) return;
    if (document.activeElement === $('stop-button')) $('message-input').focus();
    $('stop-button').disabled = true;
    try {
      await api('DELETE', '/threads/' + state.threadId + '/chat');
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 'no_active_run')) {
        $('stop-button').disabled = false;
        showError(err);
      }
    }
  }

  // ---------------------------------------------------------------- drawer and sheet

  const narrow = window.matchMedia('(max-width: 760px)');
  const medium = window.matchMedia('(max-width: 1000px)');

  function drawerOpen() { return $('chat-view').classList.contains('drawer-open'); }
  function sheetOpen() { return $('chat-view').classList.contains('trace-open'); }

  /** While the drawer or the sheet covers the page, what is under it takes no focus or clicks. */
  function updateOverlay() {
    const drawer = drawerOpen();
    const sheet = sheetOpen();
    $('backdrop').hidden = !drawer && !sheet;
    document.querySelector('.topbar').inert = drawer || sheet;
    $('error-banner').inert = drawer || sheet;
    document.querySelector('.conversation').inert = drawer || sheet;
    $('agent-editor').inert = drawer || sheet;
    $('sidebar').inert = sheet;
    $('trace-panel').inert = drawer;
    $('menu-button').setAttribute('aria-expanded', String(drawer));
    $('trace-button').setAttribute('aria-expanded', String(sheet));
  }

  function openDrawer() {
    closeSheet(false);
    $('chat-view').classList.add('drawer-open');
    updateOverlay();
    const target = $('thread-list').querySelector('.thread-item.active .thread-open')
      || $('thread-list').querySelector('.thread-open') || $('new-thread');
    target.focus();
  }

  function closeDrawer(returnFocus) {
    if (!drawerOpen()) return;
    $('chat-view').classList.remove('drawer-open');
    updateOverlay();
    if (returnFocus && narrow.matches) $('menu-button').focus();
  }

  function openSheet() {
    closeDrawer(false);
    $('chat-view').classList.add('trace-open');
    updateOverlay();
    $('trace-close').focus();
  }

  function closeSheet(returnFocus) {
    if (!sheetOpen()) return;
    $('chat-view').classList.remove('trace-open');
    updateOverlay();
    if (returnFocus && medium.matches) $('trace-button').focus();
  }

  // ---------------------------------------------------------------- agent editor

  const editor = { agent: null, viewing: null, tools: [] }; // the latest version being edited, an old one being read

  async function openEditor(agentId) {
    closeDrawer(false);
    closeSheet(false);
    document.querySelector('.conversation').hidden = true;
    $('agent-editor').hidden = false;
    try {
      if (!editor.tools.length) editor.tools = (await api('GET', '/tools')).data || [];
      await loadEditorAgents();
      if (agentId) await editAgent(agentId); else fillAgentForm(null);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) showError(err);
    }
    $('editor-heading').focus();
  }

  function closeEditor() {
    $('agent-editor').hidden = true;
    document.querySelector('.conversation').hidden = false;
    $('agents-button').focus();
  }

  async function loadEditorAgents() {
    const [active, archived] = await Promise.all([
      api('GET', '/agents?limit=100'), api('GET', '/agents?limit=100&status=archived')]);
    const own = [...(active.data || []), ...(archived.data || [])].filter((a) => a.builtin === false);
    $('editor-agents').replaceChildren(...own.map((a) => el('li', {},
      el('button', {
        type: 'button', 'data-testid': 'editor-agent', 'data-agent-id': a.id,
        class: a.status === 'archived' ? 'archived' : null,
        'aria-current': editor.agent && editor.agent.id === a.id ? 'true' : null,
        text: a.name + ' (v' + a.version + (a.status === 'archived' ? ', archived)' : ')'),
        onclick: () => editAgent(a.id).catch(showError),
      }))));
  }

  async function editAgent(agentId) {
    const agent = await api('GET', '/agents/' + encodeURIComponent(agentId));
    fillAgentForm(agent);
    await loadEditorAgents();
  }

  function variableRow(variable) {
    const v = variable || { name: '', required: false, default: null };
    const row = el('li', { class: 'variable-row', 'data-testid': 'variable-row' },
      el('input', { 'aria-label': 'Variable name', 'data-testid': 'var-name', value: v.name || '', maxLength: 64, placeholder: 'name' }),
      el('label', { class: 'check' },
        el('input', { type: 'checkbox', 'data-testid': 'var-required', checked: !!v.required }), 'required'),
      el('input', { 'aria-label': 'Default value', 'data-testid': 'var-default', value: v.default === null || v.default === undefined ? '' : v.default, placeholder: 'default' }),
      el('button', { type: 'button', class: 'link', 'data-testid': 'var-remove', text: 'Remove', onclick: () => row.remove() }));
    return row;
  }

  /** Shows {@code agent} in the form (null: an empty form for a new agent); {@code readOnly} for an old version. */
  function fillAgentForm(agent, readOnly) {
    clearFieldErrors();
    if (!readOnly) editor.agent = agent;
    editor.viewing = readOnly ? agent : null;
    const a = agent || { name: '', description: '', instructions: '', model: '', model_settings: {}, tools: [], variables: [], visibility: 'private' };
    const settings = a.model_settings || {};
    $('agent-name').value = a.name || '';
    $('agent-description').value = a.description || '';
    $('agent-instructions').value = a.instructions || '';
    $('agent-model').value = a.model || '';
    $('agent-temperature').value = settings.temperature === undefined || settings.temperature === null ? '' : settings.temperature;
    $('agent-max-tokens').value = settings.max_output_tokens === undefined || settings.max_output_tokens === null ? '' : settings.max_output_tokens;
    $('agent-effort').value = settings.reasoning_effort || '';
    $('agent-visibility').value = a.visibility === 'shared' ? 'shared' : 'private';
    $('agent-variables').replaceChildren(...(a.variables || []).map(variableRow));
    const chosen = new Set((a.tools || []).map((t) => t.name));
    const names = [...new Set([...editor.tools.map((t) => t.name), ...chosen])];
    $('agent-tools').replaceChildren(...names.map((name) => {
      const spec = editor.tools.find((t) => t.name === name);
      return el('label', { class: 'check', title: spec ? spec.description : null },
        el('input', { type: 'checkbox', value: name, 'data-testid': 'agent-tool', checked: chosen.has(name) }), name);
    }));
    $('agent-fields').disabled = !!readOnly || (agent && agent.status === 'archived');
    $('agent-save').hidden = !!readOnly;
    $('agent-save').disabled = !!agent && agent.status === 'archived';
    $('agent-save').textContent = agent ? 'Save as a new version' : 'Create agent';
    $('agent-archive').hidden = !!readOnly || !agent || agent.status === 'archived';
    $('agent-restore').hidden = !!readOnly || !agent || agent.status !== 'archived';
    $('agent-latest').hidden = !readOnly;
    $('editor-heading').textContent = agent ? a.name : 'New agent';
    $('editor-status').textContent = agent ? 'v' + a.version + ' · ' + a.status : '';
    $('agent-form-state').textContent = !agent ? 'A new private agent: version 1 once created.'
      : readOnly ? 'Version ' + a.version + ', read-only. The latest is v' + editor.agent.version + '.'
        : a.status === 'archived' ? 'Archived: no new threads can use it; its threads keep working. Restore it to edit.'
          : 'Saving makes version ' + (a.version + 1) + '.';
    $('agent-history').hidden = !agent;
    if (agent && !readOnly) loadVersions(agent).catch(showError);
  }

  async function loadVersions(agent) {
    const page = await api('GET', '/agents/' + encodeURIComponent(agent.id) + '/versions?limit=100');
    $('agent-versions').replaceChildren(...(page.data || []).map((v) => el('li', { 'data-testid': 'agent-version', 'data-version': v.version },
      el('span', { text: 'v' + v.version + ' · ' + new Date(v.updated_at || v.created_at).toLocaleString() + (v.version === agent.version ? ' (latest)' : '') }),
      v.version === agent.version ? null : el('button', {
        type: 'button', class: 'link', 'data-testid': 'version-open', text: 'Open this version',
        'aria-label': 'Open version ' + v.version,
        onclick: () => openVersion(agent.id, v.version).catch(showError),
      }))));
  }

  async function openVersion(agentId, version) {
    const old = await api('GET', '/agents/' + encodeURIComponent(agentId) + '/versions/' + version);
    fillAgentForm(old, true);
    $('agent-form-state').focus();
  }

  function agentBody() {
    const settings = {};
    const temperature = $('agent-temperature').value.trim();
    const maxTokens = $('agent-max-tokens').value.trim();
    if (temperature !== '') settings.temperature = Number(temperature);
    if (maxTokens !== '') settings.max_output_tokens = Number(maxTokens);
    if ($('agent-effort').value) settings.reasoning_effort = $('agent-effort').value;
    const body = {
      name: $('agent-name').value,
      description: $('agent-description').value,
      instructions: $('agent-instructions').value,
      model: $('agent-model').value.trim() || null,
      model_settings: settings,
      tools: [...$('agent-tools').querySelectorAll('input:checked')].map((c) => ({ name: c.value })),
      variables: [...$('agent-variables').children].map((row) => {
        const value = row.querySelector('[data-testid=var-default]').value;
        return {
          name: row.querySelector('[data-testid=var-name]').value.trim(),
          required: row.querySelector('[data-testid=var-required]').checked,
          default: value === '' ? null : value,
        };
      }),
      visibility: $('agent-visibility').value,
    };
    if (!editor.agent && body.model === null) delete body.model;
    return body;
  }

  function clearFieldErrors() {
    for (const p of document.querySelectorAll('#agent-form .field-error')) { p.hidden = true; p.textContent = ''; }
    for (const c of document.querySelectorAll('#agent-form [aria-invalid]')) c.removeAttribute('aria-invalid');
    $('agent-form-error').hidden = true;
    $('agent-form-error').textContent = '';
  }

  /** The error element for an API field name: the exact one, else its list ("tools[1].name" → tools). */
  function fieldErrorFor(field) {
    const all = [...document.querySelectorAll('#agent-form .field-error')];
    return all.find((p) => p.dataset.field === field)
      || all.find((p) => field.startsWith(p.dataset.field + '[') || field.startsWith(p.dataset.field + '.'));
  }

  function showFieldError(target, text) {
    target.textContent = target.textContent ? target.textContent + ' ' + text : text;
    target.hidden = false;
    const control = document.querySelector('[aria-describedby="' + target.id + '"]');
    if (control) control.setAttribute('aria-invalid', 'true');
  }

  function showAgentError(err) {
    const problem = err instanceof ApiError ? err.problem : null;
    const errors = (problem && problem.errors) || [];
    let first = null;
    for (const e of errors) {
      const target = fieldErrorFor(e.field || '');
      const text = target ? e.message : (e.field + ': ' + e.message);
      showFieldError(target || $('agent-form-error'), text);
      first = first || target;
    }
    if (err instanceof ApiError && err.status === 403 && $('agent-visibility').value === 'shared') {
      showFieldError($('agent-visibility-error'), err.message + ' (' + err.code + ')');
      first = first || $('agent-visibility-error');
    } else if (!errors.length) {
      showFieldError($('agent-form-error'), err instanceof ApiError ? err.message + ' (' + err.code + ')' : String(err.message || err));
    }
    const control = first && document.querySelector('[aria-describedby="' + first.id + '"]');
    (control || $('agent-form-error')).focus();
  }

  async function saveAgent(event) {
    event.preventDefault();
    if (editor.viewing) return;
    clearFieldErrors();
    $('agent-save').disabled = true;
    try {
      const saved = editor.agent
        ? await api('PATCH', '/agents/' + encodeURIComponent(editor.agent.id), agentBody())
        : await api('POST', '/agents', agentBody());
      fillAgentForm(saved);
      await Promise.all([loadEditorAgents(), loadAgents()]);
      $('agent-form-state').textContent = 'Saved as version ' + saved.version + '.';
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) showAgentError(err);
    } finally {
      $('agent-save').disabled = !!editor.agent && editor.agent.status === 'archived';
    }
  }

  async function setArchived(archived) {
    if (!editor.agent) return;
    clearFieldErrors();
    const id = encodeURIComponent(editor.agent.id);
    try {
      if (archived) await api('DELETE', '/agents/' + id);
      else await api('PATCH', '/agents/' + id, { status: 'active' });
      fillAgentForm(await api('GET', '/agents/' + id));
      await Promise.all([loadEditorAgents(), loadAgents()]);
      (archived ? $('agent-restore') : $('agent-archive')).focus();
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) showAgentError(err);
    }
  }

  // ---------------------------------------------------------------- wiring

  /** Test hooks: simulate a dropped connection while a run streams. */
  window.parleyDebug = {
    dropConnection() {
      const stream = state.stream;
      if (!stream || stream.finished) return false;
      stream.dropped = true;
      stream.controller.abort();
      return true;
    },
    lastSeq() { return state.stream ? state.stream.lastSeq : 0; },
  };

  // what the page's feature files loaded after this one (tree.js, approvals.js, usage.js, oidc.js) may use:
  // one property per line, alphabetical; they may also set the on... hooks (onThreadShown, onLeaveViews)
  window.Parley = {
    ApiError,
    api,
    authHeaders,
    clearError,
    closeDrawer,
    errorDescribers,
    closeSheet,
    el,
    formatCost,
    hooks,
    loadThreads,
    messageDecorators,
    newConversation,
    openThread,
    readProblem,
    setToken,
    showError,
    showLogin,
    signOut,
    startSession,
    state,
    updateEmptyHints,
  };

  document.addEventListener('DOMContentLoaded', () => {
    $('login-form').addEventListener('submit', login);
    $('token-submit').addEventListener('click', loginWithToken);
    $('sign-out').addEventListener('click', () => signOut());
    $('error-close').addEventListener('click', clearError);
    $('new-thread').addEventListener('click', () => { closeDrawer(false); newConversation(); });
    $('menu-button').addEventListener('click', openDrawer);
    $('drawer-close').addEventListener('click', () => closeDrawer(true));
    $('trace-button').addEventListener('click', () => (sheetOpen() ? closeSheet(true) : openSheet()));
    $('trace-close').addEventListener('click', () => closeSheet(true));
    $('backdrop').addEventListener('click', () => { closeDrawer(true); closeSheet(true); });
    document.addEventListener('keydown', (e) => {
      if (e.key !== 'Escape') return;
      if (drawerOpen()) { e.preventDefault(); closeDrawer(true); }
      if (sheetOpen()) { e.preventDefault(); closeSheet(true); }
    });
    narrow.addEventListener('change', () => { if (!narrow.matches) closeDrawer(false); });
    medium.addEventListener('change', () => { if (!medium.matches) closeSheet(false); });
    $('more-threads').addEventListener('click', () => loadThreads(true).catch(showError));
    $('older-messages').addEventListener('click', loadOlderMessages);
    $('agent-select').addEventListener('change', () => { if (!state.threadId) showThreadHeading(null); });
    $('composer').addEventListener('submit', send);
    $('agents-button').addEventListener('click', () => openEditor(null));
    $('editor-close').addEventListener('click', closeEditor);
    $('agent-new').addEventListener('click', () => { fillAgentForm(null); loadEditorAgents().catch(showError); $('agent-name').focus(); });
    $('agent-form').addEventListener('submit', saveAgent);
    $('variable-add').addEventListener('click', () => {
      const row = variableRow(null);
      $('agent-variables').append(row);
      row.querySelector('input').focus();
    });
    $('agent-archive').addEventListener('click', () => setArchived(true));
    $('agent-restore').addEventListener('click', () => setArchived(false));
    $('agent-latest').addEventListener('click', () => { fillAgentForm(editor.agent); $('agent-form-state').focus(); });
    $('stop-button').addEventListener('click', stop);
    $('message-input').addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) send(e);
    });
    if (loadSession()) showChat(); else showLogin();
  });
})();
