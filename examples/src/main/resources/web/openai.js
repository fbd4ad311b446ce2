/*
 * Parley demo page: how to point an OpenAI client (an official SDK, the Vercel AI SDK, Open WebUI,
 * LibreChat) at this server: the /v1 base URL and, as the model, the id of the agent chosen for
 * new threads. Needs nothing of window.Parley.
 */
(function () {
  'use strict';

  const $ = (id) => document.getElementById(id);

  function show() {
    $('openai-base-url').textContent = window.location.origin + '/v1';
    $('openai-model').textContent = $('agent-select').value || 'assistant';
  }

  // the picker fills (and refills) itself after sign-in; follow its options and the user's choice
  new MutationObserver(show).observe($('agent-select'), { childList: true, subtree: true });
  $('agent-select').addEventListener('change', show);
  show();
})();
