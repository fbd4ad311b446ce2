/*
 * Parley demo page: what runs cost (each thread's tokens and cost, this month's usage by day and by
 * agent) and the trash (restore, delete forever). Uses what app.js exposes as window.Parley.
 */
(function () {
  'use strict';

  const P = window.Parley;
  const $ = (id) => document.getElementById(id);
  const SVG = 'http://www.w3.org/2000/svg';
  const VIEWS = ['usage-view', 'trash-view'];
  const trash = { cursor: null };

  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
    for (const child of children) if (child) node.append(child);
    return node;
  }

  /** "1,230 tokens", with the input read from the model's prompt cache when there was any: "1,230 tokens (1,024 cached)". */
  function tokens(usage) {
    if (!usage) return '';
    const cached = usage.input_cached_tokens ? ' (' + usage.input_cached_tokens.toLocaleString('en-US') + ' cached)' : '';
    return usage.total_tokens.toLocaleString('en-US') + ' tokens' + cached;
  }

  function costText(cost) {
    return P.formatCost(cost) || 'no price';
  }

  // ---------------------------------------------------------------- a thread's tokens and cost

  P.onThreadShown = (thread) => {
    const badge = $('thread-usage');
    if (!thread || !thread.usage || !thread.usage.total_tokens) {
      badge.hidden = true;
      badge.textContent = '';
      return;
    }
    badge.textContent = tokens(thread.usage) + ' · ' + costText(thread.cost_usd);
    badge.title = thread.usage.input_tokens + ' in (' + (thread.usage.input_cached_tokens || 0) + ' of them cached), '
      + thread.usage.output_tokens + ' out';
    badge.hidden = false;
  };

  // ---------------------------------------------------------------- views

  function showView(id) {
    P.closeDrawer(false);
    P.closeSheet(false);
    document.querySelector('.conversation').hidden = true;
    $('agent-editor').hidden = true;
    for (const view of VIEWS) $(view).hidden = view !== id;
  }

  function hideViews() {
    for (const view of VIEWS) $(view).hidden = true;
  }

  function backToChat(button) {
    hideViews();
    document.querySelector('.conversation').hidden = false;
    $(button).focus();
  }

  P.onLeaveViews = hideViews;

  // ---------------------------------------------------------------- usage this month

  function monthDays(from) {
    const start = new Date(from);
    const days = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 0)).getUTCDate();
    const keys = [];
    for (let d = 1; d <= days; d++) {
      keys.push(start.getUTCFullYear() + '-' + String(start.getUTCMonth() + 1).padStart(2, '0') + '-' + String(d).padStart(2, '0'));
    }
    return keys;
  }

  /** One bar per day of the month: cost when any run had a price, else tokens. */
  function chart(report) {
    const byDay = new Map(report.data.map((row) => [row.group, row]));
    const days = monthDays(report.from);
    const priced = report.data.some((row) => Number(row.cost_usd) > 0);
    const value = (row) => (row ? (priced ? Number(row.cost_usd) || 0 : row.total_tokens) : 0);
    const max = Math.max(0, ...days.map((day) => value(byDay.get(day))));
    const width = 720;
    const height = 160;
    const base = height - 18;
    const step = width / days.length;
    const bars = days.map((day, i) => {
      const row = byDay.get(day);
      const h = max > 0 ? Math.max(row ? 1 : 0, Math.round((value(row) / max) * (base - 8))) : 0;
      const label = day + ': ' + (row ? tokens(row) + ', ' + costText(row.cost_usd) + ', ' + row.runs + (row.runs === 1 ? ' run' : ' runs') : 'nothing');
      return svg('rect', {
        class: 'bar', x: (i * step + 1).toFixed(1), y: base - h, width: Math.max(1, step - 2).toFixed(1), height: h,
        'data-testid': 'usage-bar', 'data-day': day, 'data-value': value(row),
      }, svg('title', {}, label));
    });
    const labels = days.filter((_, i) => i % 5 === 0).map((day) => {
      const i = days.indexOf(day);
      const text = svg('text', { x: (i * step + 1).toFixed(1), y: height - 4 });
      text.textContent = String(Number(day.slice(8)));
      return text;
    });
    const title = svg('title', {});
    title.textContent = (priced ? 'Cost' : 'Tokens') + ' by day this month';
    return svg('svg', { viewBox: '0 0 ' + width + ' ' + height, role: 'img', 'aria-labelledby': 'usage-days-heading' },
      title, svg('line', { class: 'axis', x1: 0, y1: base, x2: width, y2: base }), ...bars, ...labels);
  }

  async function openUsage() {
    showView('usage-view');
    $('usage-heading').focus();
    try {
      const [days, agents] = await Promise.all([P.api('GET', '/usage?group_by=day'), P.api('GET', '/usage?group_by=agent')]);
      const total = days.total;
      $('usage-total').textContent = total.runs + (total.runs === 1 ? ' run · ' : ' runs · ') + tokens(total) + ' · ' + costText(total.cost_usd);
      $('usage-chart').replaceChildren(chart(days));
      $('usage-agents').tBodies[0].replaceChildren(...agents.data.map((row) => P.el('tr', { 'data-testid': 'usage-agent-row' },
        P.el('td', { text: row.group }), P.el('td', { text: String(row.runs) }),
        P.el('td', { text: row.total_tokens.toLocaleString('en-US') }),
        P.el('td', { 'data-testid': 'usage-agent-cached', text: (row.input_cached_tokens || 0).toLocaleString('en-US') }),
        P.el('td', { text: costText(row.cost_usd) }))));
    } catch (err) {
      if (!(err instanceof P.ApiError && err.status === 401)) P.showError(err);
    }
  }

  // ---------------------------------------------------------------- trash

  function trashItem(thread) {
    const title = thread.title || 'New conversation';
    const restore = P.el('button', { type: 'button', 'data-testid': 'trash-restore', text: 'Restore', 'aria-label': 'Restore ' + title });
    const remove = P.el('button', { type: 'button', class: 'danger', 'data-testid': 'trash-delete', text: 'Delete forever',
      'aria-label': 'Delete ' + title + ' forever' });
    const item = P.el('li', { class: 'trash-item', 'data-testid': 'trash-item', 'data-thread-id': thread.id },
      P.el('span', { class: 'trash-title', 'data-testid': 'trash-title', text: title }),
      P.el('span', { class: 'trash-when', text: 'deleted ' + new Date(thread.deleted_at).toLocaleString() }),
      restore, remove);
    restore.addEventListener('click', async () => {
      try {
        await P.api('POST', '/threads/' + thread.id + '/restore', {});
        item.remove();
        updateTrashEmpty();
        await P.loadThreads(false);
      } catch (err) { P.showError(err); }
    });
    remove.addEventListener('click', async () => {
      // a second click confirms
      if (!remove.classList.contains('confirming')) {
        remove.classList.add('confirming');
        remove.textContent = 'Really delete forever?';
        remove.setAttribute('data-testid', 'trash-delete-confirm');
        remove.setAttribute('aria-label', 'Really delete ' + title + ' forever?');
        return;
      }
      try {
        await P.api('DELETE', '/threads/' + thread.id + '?hard=true');
        item.remove();
        updateTrashEmpty();
        $('trash-heading').focus();
      } catch (err) { P.showError(err); }
    });
    return item;
  }

  function updateTrashEmpty() {
    $('trash-empty').hidden = $('trash-list').children.length > 0;
  }

  async function loadTrash(more) {
    const query = '?status=deleted&limit=50' + (more && trash.cursor ? '&cursor=' + encodeURIComponent(trash.cursor) : '');
    const page = await P.api('GET', '/threads' + query);
    const items = page.data.map(trashItem);
    if (more) $('trash-list').append(...items); else $('trash-list').replaceChildren(...items);
    trash.cursor = page.has_more ? page.next_cursor : null;
    $('trash-more').hidden = !trash.cursor;
    updateTrashEmpty();
  }

  async function openTrash() {
    showView('trash-view');
    $('trash-heading').focus();
    try {
      await loadTrash(false);
    } catch (err) {
      if (!(err instanceof P.ApiError && err.status === 401)) P.showError(err);
    }
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('usage-button').addEventListener('click', openUsage);
    $('trash-button').addEventListener('click', openTrash);
    $('usage-close').addEventListener('click', () => backToChat('usage-button'));
    $('trash-close').addEventListener('click', () => backToChat('trash-button'));
    $('trash-more').addEventListener('click', () => loadTrash(true).catch(P.showError));
    // the agent editor takes the column too
    $('agents-button').addEventListener('click', hideViews);
  });
})();
