// Erratum: the editors' pages. Progressive enhancement only: every action is
// a plain form that works without this script. This adds the keyboard
// (j/k o x c a r s e / u ?), resolution templates and the marks on
// cases someone else changed meanwhile. No inline script: the pages run under
// a strict Content-Security-Policy.
'use strict';
(() => {
  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
  const body = document.body;
  const lang = body.dataset.lang || 'fr';
  const csrf = body.dataset.csrf || '';
  const POLL_MS = 20000;

  // ---- small helpers -----------------------------------------------------
  const toastEl = $('.toast');
  let toastTimer;
  function toast(text) {
    if (!toastEl) return;
    toastEl.textContent = text;
    toastEl.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { toastEl.hidden = true; }, 4000);
  }

  // Posts like a form of the page would (same CSRF field, PRG answer).
  function post(action, fields) {
    const form = document.createElement('form');
    form.method = 'post';
    form.action = action;
    form.hidden = true;
    const all = { csrf_token: csrf, return_to: location.pathname + location.search, ...fields };
    for (const [name, value] of Object.entries(all)) {
      const input = document.createElement('input');
      input.type = 'hidden';
      input.name = name;
      input.value = value;
      form.append(input);
    }
    body.append(form);
    form.submit();
  }

  function typing(target) {
    return target.closest('input, textarea, select, [contenteditable="true"]') !== null;
  }

  // ---- help --------------------------------------------------------------
  const help = $('#help');
  function openHelp() {
    if (help && !help.open) help.showModal();
  }
  for (const b of $$('[data-open-help]')) b.addEventListener('click', openHelp);

  // ---- the queue ---------------------------------------------------------
  const table = $('table.queue');
  let rows = table ? $$('tr.case', table) : [];
  let cursor = -1;

  function setCursor(i, focus = true) {
    if (!rows.length) return;
    i = Math.max(0, Math.min(rows.length - 1, i));
    if (rows[cursor]) rows[cursor].classList.remove('cursor');
    cursor = i;
    const row = rows[cursor];
    row.classList.add('cursor');
    if (focus) {
      row.focus({ preventScroll: true });
      row.scrollIntoView({ block: 'nearest' });
    }
    history.replaceState(null, '', `#${row.id}`);
  }

  if (rows.length) {
    const fromHash = location.hash ? rows.findIndex(r => `#${r.id}` === location.hash) : -1;
    setCursor(fromHash >= 0 ? fromHash : 0, fromHash >= 0);
    rows.forEach(bindRow);
  }
  function bindRow(row) {
    row.addEventListener('click', e => {
      if (!e.target.closest('a, button, input, label')) setCursor(rows.indexOf(row));
    });
  }
  // Rows the live arrivals inserted (live.js): the cursor stays on its row.
  document.addEventListener('erratum:rows-added', () => {
    const current = rows[cursor];
    const known = new Set(rows);
    rows = $$('tr.case', table);
    // Times come written in the editor's zone by the server.
    for (const r of rows.filter(r => !known.has(r))) bindRow(r);
    if (current) cursor = rows.indexOf(current);
  });
  const selectAll = $('input[data-select-all]');
  if (selectAll) {
    selectAll.addEventListener('change', () => {
      for (const box of $$('input[name="ids"]', table)) box.checked = selectAll.checked;
    });
  }

  function rowAction(action) {
    const row = rows[cursor];
    if (!row) return;
    const allowed = (row.dataset.actions || '').split(' ');
    const id = row.dataset.id;
    const version = row.dataset.version;
    const refuse = () => toast(table.dataset.notAllowed || 'Not allowed');
    switch (action) {
      case 'open': location.href = row.dataset.url; break;
      case 'select': {
        const box = $('input[name="ids"]', row);
        if (box) box.checked = !box.checked;
        break;
      }
      case 'claim':
        if (!allowed.includes('claim')) return refuse();
        post(`/editor/cases/${id}/claim`, { version });
        break;
      case 'assign':
        if (!allowed.includes('assign')) return refuse();
        post(`/editor/cases/${id}/assign`, { version, assignee: body.dataset.me });
        break;
      case 'resolve':
        if (!allowed.includes('resolve')) return refuse();
        location.href = `${row.dataset.url}#resolve`;
        break;
      case 'spam':
        if (!allowed.includes('resolve')) return refuse();
        post(`/editor/cases/${id}/resolve`, { version, resolution: 'spam' });
        break;
      case 'expand': {
        // The readers' words open in place, without leaving the queue.
        const words = $('details[data-words]', row);
        if (words) words.open = !words.open;
        break;
      }
    }
  }

  // ---- the case page -----------------------------------------------------
  const casePage = $('[data-case-id]');
  function caseAction(action) {
    const submit = sel => {
      const f = $(sel);
      if (f) f.requestSubmit(); else toast(casePage.dataset.notAllowed || 'Not allowed');
    };
    switch (action) {
      case 'claim': submit('form[data-action="claim"]'); break;
      case 'assign': submit('form[data-action="assign-me"]'); break;
      case 'spam': submit('form[data-action="spam"]'); break;
      case 'resolve': {
        const sel = $('#resolve select[name="resolution"]');
        if (!sel) return toast(casePage.dataset.notAllowed || 'Not allowed');
        sel.scrollIntoView({ block: 'center' });
        sel.focus();
        break;
      }
      case 'note': { const n = $('#note textarea'); if (n) n.focus(); break; }
    }
  }

  // Resolution templates: choosing a kind starts the public note in the
  // article's language, unless the editor already wrote something else.
  const resolveForm = $('#resolve');
  if (resolveForm) {
    const select = $('select[name="resolution"]', resolveForm);
    const note = $('textarea[name="public_note"]', resolveForm);
    const dup = $('[data-for="duplicate"]', resolveForm);
    let lastTemplate = '';
    const sync = () => {
      const opt = select.selectedOptions[0];
      const template = (opt && opt.dataset.template) || '';
      if (note && (note.value.trim() === '' || note.value === lastTemplate)) {
        note.value = template;
        lastTemplate = template;
      }
      if (note) note.required = !!(opt && opt.dataset.publishes === 'true');
      if (note) note.closest('.field').hidden = !!(opt && opt.value === 'spam');
      if (dup) dup.hidden = !(opt && opt.value === 'duplicate');
    };
    select.addEventListener('change', sync);
    sync();
    if (location.hash === '#resolve') select.focus();
  }

  // ---- keyboard ----------------------------------------------------------
  document.addEventListener('keydown', e => {
    if (e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
    if (e.key === 'Escape' && typing(e.target)) { e.target.blur(); return; }
    if (typing(e.target) || (help && help.open)) return;
    const key = e.key;
    let handled = true;
    if (key === '?') openHelp();
    else if (key === '/') { const q = $('#q'); if (q) { q.focus(); q.select(); } else handled = false; }
    else if (key === 'u' && body.dataset.page !== 'queue') location.href = '/editor/';
    else if (table && rows.length) {
      const map = { j: () => setCursor(cursor + 1), k: () => setCursor(cursor - 1), o: () => rowAction('open'),
        Enter: () => rowAction('open'), x: () => rowAction('select'), c: () => rowAction('claim'),
        a: () => rowAction('assign'), r: () => rowAction('resolve'), s: () => rowAction('spam'),
        e: () => rowAction('expand') };
      if (key === 'Enter' && e.target.closest('a, button')) return;
      if (map[key]) map[key](); else handled = false;
    } else if (casePage) {
      const map = { c: 'claim', a: 'assign', r: 'resolve', s: 'spam', n: 'note' };
      if (map[key]) caseAction(map[key]); else handled = false;
    } else handled = false;
    if (handled) e.preventDefault();
  });

  // ---- marks on cases changed by someone else ------------------------------
  // Rows are never moved or removed under the cursor: a changed case is
  // marked, and the editor reloads when ready.
  const watchedEls = () => (table ? rows : (casePage ? [casePage] : []));
  const versionsUrl = (table || casePage) && (table || casePage).dataset.versionsUrl;
  async function poll() {
    const watched = watchedEls();
    if (document.hidden || !watched.length || !versionsUrl) return;
    const ids = watched.map(el => el.dataset.caseId || el.dataset.id);
    try {
      const res = await fetch(`${versionsUrl}?ids=${ids.map(encodeURIComponent).join(',')}`,
        { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
      if (!res.ok) return;
      const data = await res.json();
      for (const c of data.cases || []) {
        const el = watched.find(w => (w.dataset.caseId || w.dataset.id) === c.id);
        if (!el || String(c.version) === el.dataset.version || el.dataset.stale) continue;
        el.dataset.stale = '1';
        if (table) {
          el.classList.add('changed');
          const badge = document.createElement('span');
          badge.className = 'changed-badge';
          badge.textContent = table.dataset.changedLabel || 'Changed';
          $('td.sentence', el)?.append(badge);
        } else {
          const banner = $('#stale');
          if (banner) banner.hidden = false;
        }
      }
    } catch (_) { /* offline for a moment: try again next time */ }
  }
  if (versionsUrl) {
    setInterval(poll, POLL_MS);
    document.addEventListener('visibilitychange', () => { if (!document.hidden) poll(); });
    // live.js heard that a case on this page changed.
    document.addEventListener('erratum:changed', poll);
  }
})();
