/*
 * Parley demo page: the model settings of the messages you send (temperature, max output tokens,
 * reasoning effort), sent as the chat request's model_settings; what is left empty is the agent's
 * own; an answer the model stopped at the output token limit is marked so. Uses what app.js exposes
 * as window.Parley.
 */
(function () {
  'use strict';

  const P = window.Parley;
  const $ = (id) => document.getElementById(id);
  const FIELDS = ['setting-temperature', 'setting-max-tokens', 'setting-effort'];

  /** The settings filled in, as the API names them. */
  function settings() {
    const out = {};
    const temperature = $('setting-temperature').value.trim();
    const maxTokens = $('setting-max-tokens').value.trim();
    const effort = $('setting-effort').value;
    if (temperature !== '') out.temperature = Number(temperature);
    if (maxTokens !== '') out.max_output_tokens = Number(maxTokens);
    if (effort) out.reasoning_effort = effort;
    return out;
  }

  function summarize() {
    const s = settings();
    const parts = [];
    if ('temperature' in s) parts.push('temperature ' + s.temperature);
    if ('max_output_tokens' in s) parts.push('at most ' + s.max_output_tokens + ' tokens');
    if ('reasoning_effort' in s) parts.push(s.reasoning_effort + ' reasoning effort');
    $('model-settings-summary').textContent = 'Model settings: ' + (parts.length ? parts.join(', ') : "the agent's");
  }

  /** An answer the model stopped at the output token limit: kept as it is, marked cut short. */
  function markCut(node) {
    node.setAttribute('data-status', 'incomplete');
    node.setAttribute('data-finish-reason', 'length');
    if (!node.querySelector('[data-testid="answer-cut"]')) {
      node.append(P.el('div', { class: 'cut-note', 'data-testid': 'answer-cut', text: 'Stopped at the output token limit' }));
    }
  }

  P.hooks.done = (stream, data) => {
    if (data.finish_reason === 'length') markCut(stream.view.message);
  };

  // from history: an incomplete answer of a run that completed was cut at the limit (a cancel ends its run cancelled)
  P.messageDecorators.push((node, message, run) => {
    if (message.role === 'assistant' && message.status === 'incomplete' && run && run.status === 'completed') markCut(node);
  });

  P.hooks.chatOptions = () => {
    const s = settings();
    return Object.keys(s).length ? { model_settings: s } : {};
  };

  document.addEventListener('DOMContentLoaded', () => {
    for (const id of FIELDS) {
      $(id).addEventListener('input', summarize);
      $(id).addEventListener('change', summarize);
    }
    $('settings-clear').addEventListener('click', () => {
      for (const id of FIELDS) $(id).value = '';
      summarize();
    });
    summarize();
  });
})();
