/*! Erratum status page: shows the timeline's times in the reader's own time zone. */
(() => {
  'use strict';
  const f = new Intl.DateTimeFormat(document.documentElement.lang || undefined, { dateStyle: 'long', timeStyle: 'short' });
  for (const el of document.querySelectorAll('time[data-local]')) {
    const d = new Date(el.getAttribute('datetime'));
    if (!Number.isNaN(d.getTime())) el.textContent = f.format(d);
  }
})();
