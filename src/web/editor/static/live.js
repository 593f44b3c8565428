// Erratum: the queue's live arrivals (the queue page only). New cases come
// from a server-sent events stream (/editor/queue/live), or from polling
// when the stream cannot be had; they are announced (a polite live region),
// counted in the tab's title, and their rows, as the page itself renders
// them for the current filters, are inserted at the top of the table
// without moving the keyboard cursor, the selection or what is on screen.
// Changes to cases on the page ask editor.js to mark them.
'use strict';
(() => {
  const box = document.getElementById('live');
  if (!box) return;
  const status = box.querySelector('[data-live-status]');
  const table = document.querySelector('table.queue');
  const tbody = table && table.tBodies[0];
  const baseTitle = document.title;
  const seen = new Set();
  const pending = new Set();
  let cursor = null;
  let count = 0;
  let timer = null;
  let wasHidden = document.hidden;

  function say() {
    const text = count === 1 ? box.dataset.one : (box.dataset.many || '').replace('{n}', String(count));
    status.textContent = count ? text : '';
    box.classList.toggle('has-news', count > 0);
    document.title = count ? `(${count}) ${baseTitle}` : baseTitle;
  }

  function handle(data) {
    if (data.cursor) cursor = data.cursor;
    let changed = false;
    for (const c of data.changes || []) {
      const onPage = document.getElementById(`c-${c.case_id}`);
      if (c.new && !onPage && !seen.has(c.case_id)) {
        seen.add(c.case_id);
        pending.add(c.case_id);
        count += 1;
      } else if (onPage && !seen.has(c.case_id)) {
        changed = true;
      }
    }
    if (changed) document.dispatchEvent(new CustomEvent('erratum:changed'));
    say();
    if (pending.size && !timer) timer = setTimeout(insert, 250);
  }

  // Fetch this very page again and take the new cases' rows from it: the
  // rows look exactly as the server renders them, and a case the filters
  // leave out is counted but not shown.
  async function insert() {
    timer = null;
    const ids = new Set(pending);
    pending.clear();
    if (!tbody || new URLSearchParams(location.search).has('cursor')) return;
    try {
      const res = await fetch(location.pathname + location.search,
        { credentials: 'same-origin', headers: { Accept: 'text/html' } });
      if (!res.ok) return;
      const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
      const rows = Array.from(doc.querySelectorAll('tr.case'))
        .filter(r => ids.has(r.dataset.id) && !document.getElementById(r.id));
      if (!rows.length) return;
      const anchor = tbody.querySelector('tr.cursor') || tbody.rows[0];
      const before = anchor ? anchor.getBoundingClientRect().top : 0;
      const first = tbody.firstElementChild;
      for (const r of rows) {
        const node = document.importNode(r, true);
        node.classList.add('arrived');
        tbody.insertBefore(node, first);
      }
      if (anchor) {
        const moved = anchor.getBoundingClientRect().top - before;
        if (moved) window.scrollBy(0, moved);
      }
      document.dispatchEvent(new CustomEvent('erratum:rows-added'));
    } catch (_) { /* offline for a moment: the count and the reload link remain */ }
  }

  let polling = false;
  function startPolling() {
    if (polling) return;
    polling = true;
    let delay = 10000;
    const tick = async () => {
      try {
        const url = box.dataset.poll + (cursor ? `?after=${encodeURIComponent(cursor)}` : '');
        const res = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
        if (res.ok) {
          const data = await res.json();
          if (cursor) handle(data); else cursor = data.cursor;
          if (data.poll_secs) delay = data.poll_secs * 1000;
        }
      } catch (_) { /* try again at the next tick */ }
      setTimeout(tick, delay);
    };
    tick();
  }

  if ('EventSource' in window) {
    const es = new EventSource(box.dataset.stream);
    es.addEventListener('ready', e => {
      const d = JSON.parse(e.data);
      if (!cursor) cursor = d.cursor;
    });
    es.addEventListener('cases', e => handle(JSON.parse(e.data)));
    // The browser reconnects by itself after a drop; a refusal (too many
    // streams, a lost session) closes the stream for good: poll instead.
    es.addEventListener('error', () => {
      if (es.readyState === EventSource.CLOSED) startPolling();
    });
    window.addEventListener('pagehide', () => es.close());
  } else {
    startPolling();
  }

  // Back on the tab after a while: the editor sees the new rows, the
  // title's count starts again.
  document.addEventListener('visibilitychange', () => {
    if (document.hidden) {
      wasHidden = true;
    } else if (wasHidden) {
      wasHidden = false;
      count = 0;
      say();
    }
  });
})();
