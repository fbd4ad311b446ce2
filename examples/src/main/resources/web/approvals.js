/*
 * Approvals on the Parley demo page: a tool call that needs a person's approval shows, in the
 * trace panel, its arguments with Approve and Deny (and an optional reason for a denial). The run
 * waits server-side (status requires_action); a reloaded page replays the run's events and shows
 * the calls still waiting. Loaded after app.js, whose window.Parley it uses.
 */
(function () {
  'use strict';

  const P = window.Parley;

  function traceOf(stream, stepId) {
    return stream.traces.get(stepId) || document.querySelector('[data-testid="trace-item"][data-step-id="' + stepId + '"]');
  }

  function setBadge(item, status, label) {
    item.setAttribute('data-status', status);
    const badge = item.querySelector('[data-testid="trace-status"]');
    badge.textContent = label;
    badge.className = 'status ' + status;
  }

  /** Approve / Deny for the call of an approval_required event. */
  function ask(stream, data) {
    const item = traceOf(stream, data.step_id);
    if (!item || item.querySelector('[data-testid="approval"]')) return;
    setBadge(item, 'awaiting_approval', 'awaiting approval');
    const call = data.tool_call || {};
    const reason = P.el('input', {
      type: 'text', class: 'approval-reason', 'data-testid': 'approval-reason', maxLength: 2000,
      placeholder: 'Reason (optional)', 'aria-label': 'Reason for denying ' + (call.name || 'this call') + ' (optional)',
    });
    const approve = P.el('button', { type: 'button', class: 'primary', 'data-testid': 'approve-button', text: 'Approve' });
    const deny = P.el('button', { type: 'button', class: 'danger', 'data-testid': 'deny-button', text: 'Deny' });
    const box = P.el('div', { class: 'approval', 'data-testid': 'approval', role: 'group',
      'aria-label': 'Approve or deny ' + (call.name || 'this call') }, reason, approve, deny);
    approve.addEventListener('click', () => decide(stream, call.id, 'approve', null, box));
    deny.addEventListener('click', () => decide(stream, call.id, 'deny', reason.value.trim(), box));
    item.append(box);
    P.updateEmptyHints();
  }

  async function decide(stream, toolCallId, decision, reason, box) {
    const buttons = box.querySelectorAll('button, input');
    buttons.forEach((b) => { b.disabled = true; });
    try {
      await P.api('POST', '/threads/' + stream.threadId + '/runs/' + stream.runId + '/approvals',
        { tool_call_id: toolCallId, decision, reason: reason || undefined });
    } catch (err) {
      if (err instanceof P.ApiError && err.code === 'not_awaiting_approval') {
        box.remove(); // decided already (elsewhere, or by the timeout): its approval_decided event says how
        return;
      }
      buttons.forEach((b) => { b.disabled = false; });
      P.showError(err);
    }
  }

  /** The call of an approval_decided event: its buttons go, its badge says the decision. */
  function decided(stream, data) {
    const item = traceOf(stream, data.step_id);
    if (!item) return;
    const box = item.querySelector('[data-testid="approval"]');
    if (box) box.remove();
    if (data.decision === 'approve') setBadge(item, 'in_progress', 'approved');
    else setBadge(item, 'denied', 'denied');
  }

  P.hooks.event = function (stream, type, data) {
    if (type === 'approval_required') ask(stream, data);
    else if (type === 'approval_decided') decided(stream, data);
  };
})();
