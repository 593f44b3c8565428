/*! Erratum reader widget — lets readers point at a sentence and report an error. */
(() => {
  'use strict';

  // currentScript is only set while this file first executes, so capture it now.
  const script = document.currentScript;
  const GUARD = Symbol.for('erratum.widget');
  if (!script || window[GUARD]) return;
  window[GUARD] = true;

  const ds = script.dataset;
  const SRC = new URL(script.src, location.href);
  const CSS = new URL('widget.css', SRC).href;
  const API = (ds.api ? new URL(ds.api, location.href).href : SRC.origin).replace(/\/+$/, '');
  const MAX = { comment: 2000, suggested_correction: 1000, sources: 5, ctx: 32 };
  const CATS = ['factual_error', 'typo', 'outdated', 'misleading', 'missing_context', 'translation', 'broken_link', 'other'];
  const FOOTER_RE = /Avez-vous trouvé une erreur|Did you find an error/i;

  // Every word comes from the server, one JSON file per language (locales/*.toml there):
  // the article's language unless the page sets data-lang.
  let lang = ds.lang || document.documentElement.lang || 'fr';
  let t = null;
  const fmt = (s, v) => s.replace(/\{(\w+)\}/g, (m, k) => (k in v ? v[k] : m));
  const plural = (key, n) => fmt(t[n > 1 ? `${key}_other` : `${key}_one`], { n });

  let article = null;      // API article, sentences carry a normalised copy in .norm
  let main = null;         // {host, root} of the shadow host holding the button and dialog
  let fab = null;
  let pending = null;      // quote captured when the floating button was shown
  let active = null;       // state of the open dialog
  let known = {};          // sentence id → what is known (correction, open case)
  let tip = null;          // the correction / open-case popup next to a marked sentence

  // ---------- small DOM helper ----------
  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k === 'text') el.textContent = v;
      else if (k === 'class') el.className = v;
      else el.setAttribute(k, v === true ? '' : v);
    }
    el.append(...kids.flat().filter(k => k != null));
    return el;
  }

  // Host-page CSS cannot cross a shadow boundary, and widget.css re-asserts the host box
  // with !important, which beats the host page's own !important rules.
  function mount(tag) {
    const host = document.createElement(tag);
    const root = host.attachShadow({ mode: 'open' });
    const link = h('link', { rel: 'stylesheet', href: CSS });
    const ready = new Promise(r => { link.addEventListener('load', r); link.addEventListener('error', r); });
    root.append(link);
    return { host, root, ready };
  }

  // ---------- text normalisation & mapping ----------
  // The page and the API may differ in whitespace, Unicode composition, soft hyphens and
  // inline markup; both sides are reduced to the same canonical form before comparing.
  const INVISIBLE = /[\u00AD\u200B\u2060\uFEFF]/g;
  const norm = s => s.normalize('NFC').replace(INVISIBLE, '').replace(/\s+/g, ' ').trim();
  const BLOCKS = new Set('address article aside blockquote dd div dl dt figcaption figure footer h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section table td th tr ul'.split(' '));
  const SKIP = new Set('script style noscript template textarea select button input svg erratum-widget erratum-entry'.split(' '));

  function container() {
    try { return document.querySelector(ds.selector || 'article') || null; } catch { return null; }
  }

  // Flattens the container's visible text into one normalised string, remembering for every
  // text node which normalised index each of its offsets maps to.
  function indexText(root) {
    const nodes = [];
    let text = '', gap = true, lastBlock = null;
    const space = () => { if (!gap) { text += ' '; gap = true; } };
    const blockOf = n => {
      for (let e = n.parentElement; e && e !== root; e = e.parentElement) if (BLOCKS.has(e.localName)) return e;
      return root;
    };
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT, {
      acceptNode: n => n.nodeType === 3 ? NodeFilter.FILTER_ACCEPT
        : SKIP.has(n.localName) || n.hidden ? NodeFilter.FILTER_REJECT
          : n.localName === 'br' ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_SKIP,
    });
    for (let n; (n = walker.nextNode());) {
      if (n.nodeType === 1) { space(); continue; }
      const b = blockOf(n);
      if (b !== lastBlock) { space(); lastBlock = b; }
      const d = n.data, offs = new Array(d.length + 1), start = text.length;
      const re = /(\s+)|([\u00AD\u200B\u2060\uFEFF]+)|[^\s\p{M}]\p{M}*|\p{M}+/gu;
      for (let m; (m = re.exec(d));) {
        const at = m.index, len = m[0].length;
        offs[at] = text.length;
        if (m[1]) space();
        else if (!m[2]) { text += m[0].normalize('NFC'); gap = false; }
        for (let k = 1; k < len; k++) offs[at + k] = m[1] ? text.length : offs[at];
      }
      offs[d.length] = text.length;
      nodes.push({ n, start, end: text.length, offs });
    }
    return { text, nodes };
  }

  // Finds each API sentence in page order; a sentence absent from the page is simply null.
  function locate(idx) {
    let from = 0;
    return article.sentences.map(s => {
      if (!s.norm) return null;
      let at = idx.text.indexOf(s.norm, from);
      if (at < 0) at = idx.text.indexOf(s.norm);
      if (at < 0) return null;
      from = at + s.norm.length;
      return { s, start: at, end: from };
    });
  }

  const noLoneStart = s => (/^[\uDC00-\uDFFF]/.test(s) ? s.slice(1) : s);
  const noLoneEnd = s => (/[\uD800-\uDBFF]$/.test(s) ? s.slice(0, -1) : s);

  // Context comes from the neighbouring known sentences when possible, so it matches the text the
  // server holds (bylines, captions and other page furniture between sentences are left out).
  function quoteAt(idx, a, b) {
    const spans = locate(idx).filter(Boolean).sort((x, y) => x.start - y.start);
    const i = spans.findIndex(x => x.start <= a && b <= x.end), hit = spans[i];
    let exact = idx.text.slice(a, b), before = idx.text.slice(0, a), after = idx.text.slice(b);
    if (hit) {
      exact = hit.s.norm.slice(a - hit.start, b - hit.start);
      before = hit.s.norm.slice(0, a - hit.start);
      after = hit.s.norm.slice(b - hit.start);
      for (let j = i - 1; j >= 0 && before.length < MAX.ctx; j--) before = `${spans[j].s.norm} ${before}`;
      for (let j = i + 1; j < spans.length && after.length < MAX.ctx; j++) after = `${after} ${spans[j].s.norm}`;
    }
    // Cut at word boundaries: a context never starts or ends mid-word.
    let prefix = before.slice(-MAX.ctx), suffix = after.slice(0, MAX.ctx);
    if (prefix.length < before.length && before[before.length - prefix.length - 1] !== ' ' && prefix.includes(' ')) prefix = prefix.slice(prefix.indexOf(' ') + 1);
    if (suffix.length < after.length && after[suffix.length] !== ' ' && suffix.includes(' ')) suffix = suffix.slice(0, suffix.lastIndexOf(' '));
    return {
      exact,
      prefix: noLoneStart(prefix),
      suffix: noLoneEnd(suffix),
      sentence: hit ? hit.s : null,
    };
  }

  function quoteFromSelection() {
    const root = container(), sel = getSelection();
    if (!root || !article || !sel || !sel.rangeCount || sel.isCollapsed) return null;
    const range = sel.getRangeAt(0), idx = indexText(root);
    let a = -1, b = -1;
    for (const e of idx.nodes) {
      if (!range.intersectsNode(e.n)) continue;
      const s = e.n === range.startContainer ? e.offs[range.startOffset] : e.start;
      if (a < 0) a = s;
      b = e.n === range.endContainer ? e.offs[range.endOffset] : e.end;
    }
    if (a < 0) return null;
    while (a < b && idx.text[a] === ' ') a++;
    while (b > a && idx.text[b - 1] === ' ') b--;
    return a < b ? quoteAt(idx, a, b) : null;
  }

  function domPoint(idx, i, isEnd) {
    for (const e of idx.nodes) {
      if (isEnd ? e.start < i && i <= e.end : e.start <= i && i < e.end) {
        let k = 0;
        while (k < e.offs.length - 1 && e.offs[k] < i) k++;
        return [e.n, k];
      }
    }
    return null;
  }

  // Touch screens make precise selection painful, so a tap selects the whole sentence under the finger.
  function selectSentenceAt(x, y) {
    const root = container();
    const pos = document.caretPositionFromPoint ? document.caretPositionFromPoint(x, y) : null;
    const cr = pos ? null : document.caretRangeFromPoint && document.caretRangeFromPoint(x, y);
    const node = pos ? pos.offsetNode : cr && cr.startContainer;
    const off = pos ? pos.offset : cr && cr.startOffset;
    if (!root || !node) return false;
    const idx = indexText(root), e = idx.nodes.find(x => x.n === node);
    if (!e) return false;
    const i = e.offs[Math.min(off, e.offs.length - 1)];
    const spans = locate(idx).filter(Boolean);
    const hit = spans.find(x => x.start <= i && i < x.end) || spans.find(x => x.start <= i && i <= x.end);
    if (!hit) return false;
    const p = domPoint(idx, hit.start, false), q = domPoint(idx, hit.end, true);
    if (!p || !q) return false;
    const range = document.createRange();
    range.setStart(p[0], p[1]);
    range.setEnd(q[0], q[1]);
    const sel = getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    return true;
  }

  // ---------- floating button ----------
  const canPopover = typeof HTMLElement.prototype.showPopover === 'function';
  let pointerDown = false, pointerType = '', timer = 0;

  function placeFab() {
    const sel = getSelection();
    if (!pending || !sel.rangeCount) return hideFab();
    const rects = [...sel.getRangeAt(0).getClientRects()];
    const r = rects[rects.length - 1];
    if (!r) return hideFab();
    // Below the whole selection, else above it, else beside it: never over the selected text.
    const top = Math.min(...rects.map(q => q.top)), bottom = Math.max(...rects.map(q => q.bottom));
    const left = Math.min(...rects.map(q => q.left)), right = Math.max(...rects.map(q => q.right));
    const w = fab.offsetWidth || 160, hgt = fab.offsetHeight || 36;
    let x = Math.max(8, Math.min(innerWidth - w - 8, r.right - w / 2));
    let y = bottom + 8;
    if (y + hgt > innerHeight - 8) {
      y = top - hgt - 8;
      if (y < 8) {
        y = Math.max(8, Math.min(innerHeight - hgt - 8, r.top));
        x = right + w + 16 < innerWidth ? right + 8 : Math.max(8, left - w - 8);
      }
    }
    // CSSOM writes are allowed under style-src 'self'; style attributes would not be.
    fab.style.setProperty('left', `${Math.round(x)}px`);
    fab.style.setProperty('top', `${Math.round(y)}px`);
  }

  function showFab() {
    if (!fab.classList.contains('on')) {
      fab.classList.add('on');
      if (canPopover) { try { fab.showPopover(); } catch { /* already shown */ } } else fab.hidden = false;
    }
    placeFab();
  }

  function hideFab() {
    pending = null;
    if (!fab || !fab.classList.contains('on')) return;
    fab.classList.remove('on');
    if (canPopover) { try { fab.hidePopover(); } catch { /* already hidden */ } } else fab.hidden = true;
  }

  function onSelection() {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (active || (pointerDown && pointerType === 'mouse')) return;
      pending = quoteFromSelection();
      if (pending) showFab(); else hideFab();
    }, 120);
  }

  // ---------- dialog ----------
  function deepActive() {
    let a = document.activeElement;
    while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
    return a;
  }

  const FOCUSABLE = 'a[href],button:not([disabled]),input:not([disabled]):not([tabindex="-1"]),select:not([disabled]),textarea:not([disabled]),[tabindex="0"]';

  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    // randomUUID needs a secure context; some newsroom pages are still served over http.
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    const x = [...b].map(v => v.toString(16).padStart(2, '0')).join('');
    return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
  }

  const chars = s => [...s].length;
  const clip = (s, n) => (chars(s) > n ? `${[...s].slice(0, n - 1).join('')}…` : s);

  function field(key, label, control, hint) {
    const err = h('p', { class: 'err', id: `er-err-${key}`, hidden: true });
    const ids = [hint && hint.id, err.id].filter(Boolean).join(' ');
    control.setAttribute('aria-describedby', ids);
    control.id = control.id || `er-${key}`;
    return { el: h('div', { class: 'fld' }, h('label', { for: control.id, text: label }), control, hint, err), err, control };
  }

  function counter(key, control, max) {
    const c = h('p', { class: 'hint', id: `er-count-${key}` });
    const upd = () => {
      const n = chars(control.value);
      c.textContent = fmt(t.count, { n, max });
      c.classList.toggle('over', n > max);
    };
    control.addEventListener('input', upd);
    upd();
    return c;
  }

  const day = d => new Date(`${d}Z`).toLocaleDateString(lang, { day: 'numeric', month: 'long', year: 'numeric' });
  const DRAFT = () => `erratum:draft:${article.external_id}`;
  const store = (v) => { try { if (v) sessionStorage.setItem(DRAFT(), JSON.stringify(v)); else sessionStorage.removeItem(DRAFT()); } catch { /* storage off */ } };
  const draft = () => { try { return JSON.parse(sessionStorage.getItem(DRAFT())); } catch { return null; } };

  function open(quote, opener) {
    if (!article || active) return;
    hideFab(); hideTip();
    const st = { quote, opener: opener || deepActive(), key: '', lastBody: '', sending: false, fields: {}, srcRows: [] };
    active = st;
    const dlg = h('dialog', { class: 'r dlg', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'er-title', lang });
    const live = h('div', { class: 'sr', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' });
    const form = h('form', { class: 'form', novalidate: true });
    st.dlg = dlg; st.live = live; st.form = form;

    const head = h('div', { class: 'head' },
      h('h2', { id: 'er-title', text: t.report }),
      h('button', { type: 'button', class: 'x', 'aria-label': t.close, text: '×' }));
    head.lastChild.addEventListener('click', () => close());

    form.append(h('p', { class: 'intro', text: t.intro }));

    // What is already known about the sentence comes first: its correction, or its open case.
    const k = quote && quote.sentence && !quote.force && !quote.meToo && known[quote.sentence.id];
    let notice = null;
    if (k && (k.correction || k.open_case)) {
      const go = h('button', { type: 'button', class: 'btn', text: k.correction ? t.anyway : t.other });
      const me = k.correction ? null : h('button', { type: 'button', class: 'btn pri', text: t.meToo });
      notice = h('div', { class: 'known' }, k.correction
        ? [h('h3', { tabindex: '-1', text: t.fixed }), h('p', { class: 'meta', text: t.fixedOn + day(k.correction.published_at) }), h('blockquote', { class: 'quote', text: k.correction.text })]
        : [h('h3', { tabindex: '-1', text: t.open }), h('blockquote', { class: 'quote', text: quote.exact })],
      h('div', { class: 'acts' }, go, me));
      const show = mine => {
        notice.remove(); form.hidden = false;
        if (mine) meToo(st);
        (mine ? st.fields.comment.control : st.fields.category.control).focus();
      };
      go.addEventListener('click', () => show(false));
      if (me) me.addEventListener('click', () => show(true));
      form.hidden = true;
    }

    // The quote, or a sentence picker when the reader arrived without selecting anything.
    if (quote) {
      const bq = h('blockquote', { class: 'quote', id: 'er-quote', 'aria-labelledby': 'er-quote-l' },
        quote.prefix ? h('span', { class: 'ctx', text: `…${quote.prefix}` }) : null,
        h('mark', { text: quote.exact }),
        quote.suffix ? h('span', { class: 'ctx', text: `${quote.suffix}…` }) : null);
      const err = h('p', { class: 'err', id: 'er-err-quote', hidden: true });
      bq.setAttribute('aria-describedby', err.id);
      bq.tabIndex = -1;
      form.append(h('div', { class: 'fld' }, h('p', { class: 'lbl', id: 'er-quote-l', text: t.quote }), bq, err));
      st.fields.quote = { err, control: bq };
    } else {
      const sel = h('select', { name: 'sentence_id', 'aria-required': 'true' }, h('option', { value: '', text: t.pick }));
      let group = null, par = -1;
      for (const s of article.sentences) {
        if (s.paragraph !== par) {
          par = s.paragraph;
          group = h('optgroup', { label: par === 0 ? t.title : t.par + par });
          sel.append(group);
        }
        group.append(h('option', { value: s.id, text: clip(s.norm, 110) }));
      }
      const f = field('quote', t.sentence, sel);
      form.append(f.el);
      st.fields.quote = f;
      st.picker = sel;
    }

    const cat = h('select', { name: 'category' }, CATS.map((c, i) => h('option', { value: c, text: t.cats[i] })));
    const fc = field('category', t.category, cat);
    const com = h('textarea', { name: 'comment', rows: 4, required: true, 'aria-required': 'true' });
    const fcom = field('comment', t.comment, com, counter('comment', com, MAX.comment));
    const cor = h('textarea', { name: 'suggested_correction', rows: 2 });
    const fcor = field('suggested_correction', t.correction, cor, counter('suggested_correction', cor, MAX.suggested_correction));
    Object.assign(st.fields, { category: fc, comment: fcom, suggested_correction: fcor });
    form.append(fc.el, fcom.el, fcor.el);

    // Sources: a dynamic list of URL inputs; server errors point at sources[i] of what was sent.
    const list = h('ul', { class: 'srcs' });
    const addBtn = h('button', { type: 'button', class: 'lnk', text: `+ ${t.add}` });
    const srcErr = h('p', { class: 'err', id: 'er-err-sources', hidden: true });
    const fs = h('fieldset', { class: 'fs', 'aria-describedby': srcErr.id }, h('legend', { text: t.sources }), list, addBtn, srcErr);
    st.fields.sources = { err: srcErr, control: fs };
    const renumber = () => {
      st.srcRows.forEach((row, i) => {
        row.label.textContent = t.source + (i + 1);
        row.rm.setAttribute('aria-label', t.remove + (i + 1));
        row.rm.hidden = st.srcRows.length < 2 && !row.input.value;
      });
      addBtn.hidden = st.srcRows.length >= MAX.sources;
    };
    const addRow = focus => {
      const n = Math.random().toString(36).slice(2, 8);
      const input = h('input', { type: 'url', id: `er-src-${n}`, inputmode: 'url', autocomplete: 'url', placeholder: 'https://' });
      const err = h('p', { class: 'err', id: `er-err-src-${n}`, hidden: true });
      input.setAttribute('aria-describedby', err.id);
      const label = h('label', { for: input.id });
      const rm = h('button', { type: 'button', class: 'rm', text: '×' });
      const li = h('li', null, h('div', { class: 'row' }, label, input, rm), err);
      const row = { li, input, label, rm, err };
      rm.addEventListener('click', () => {
        const i = st.srcRows.indexOf(row);
        if (st.srcRows.length === 1) input.value = '';
        else { st.srcRows.splice(i, 1); li.remove(); }
        renumber();
        (st.srcRows[Math.max(0, i - 1)].input).focus();
      });
      input.addEventListener('input', renumber);
      st.srcRows.push(row);
      list.append(li);
      renumber();
      if (focus) input.focus();
    };
    addBtn.addEventListener('click', () => addRow(true));
    addRow(false);
    form.append(fs);

    // Notification needs explicit consent; without it the address is never sent.
    const notify = h('input', { type: 'checkbox', id: 'er-notify', name: 'notify' });
    const email = h('input', { type: 'email', name: 'email', autocomplete: 'email', inputmode: 'email', spellcheck: 'false' });
    const ehint = h('p', { class: 'hint', id: 'er-email-hint', text: t.emailHint });
    const femail = field('reporter.email', t.email, email, ehint);
    notify.addEventListener('change', () => email.setAttribute('aria-required', String(notify.checked)));
    st.fields['reporter.email'] = femail;
    st.notify = notify;
    form.append(h('fieldset', { class: 'fs' },
      h('div', { class: 'chk' }, notify, h('label', { for: 'er-notify', text: t.notify })), femail.el));

    // Honeypot: invisible to people and assistive tech, tempting to naive bots.
    const trap = h('input', { type: 'text', name: 'website', id: 'er-website', tabindex: '-1', autocomplete: 'off' });
    form.append(h('div', { class: 'hp', 'aria-hidden': 'true' }, h('label', { for: trap.id, text: t.honeypot }), trap));
    st.trap = trap;

    const general = h('p', { class: 'err general', id: 'er-err-general', tabindex: '-1', hidden: true });
    st.fields.general = { err: general, control: general };
    const submit = h('button', { type: 'submit', class: 'btn pri', text: t.submit });
    const cancel = h('button', { type: 'button', class: 'btn', text: t.cancel });
    cancel.addEventListener('click', () => close());
    st.submit = submit;
    form.append(general, h('div', { class: 'acts' }, cancel, submit));
    form.addEventListener('submit', e => { e.preventDefault(); send(st); });

    const done = h('div', { class: 'done', hidden: true });
    st.done = done;
    dlg.append(h('div', { class: 'panel' }, head, live, notice, form, done));

    // An unfinished report survives an accidental close (this tab only).
    const d = draft();
    if (d && quote && d.exact === quote.exact) {
      cat.value = d.category || cat.value; com.value = d.comment || ''; cor.value = d.correction || '';
      email.value = d.email || ''; notify.checked = !!d.notify;
      com.dispatchEvent(new Event('input')); cor.dispatchEvent(new Event('input'));
    }
    const edited = e => {
      if (quote) store({ exact: quote.exact, category: cat.value, comment: com.value, correction: cor.value, email: email.value, notify: notify.checked });
      // The error of the field being edited goes as soon as the field is valid.
      const el = e.target === notify ? email : e.target, errs = validate(st);
      for (const f of [...Object.values(st.fields), ...st.srcRows.map(r => ({ err: r.err, control: r.input }))]) {
        if (f.control !== el || f.err.hidden || errs.some(x => x.f.control === el)) continue;
        f.err.hidden = true; f.err.textContent = ''; f.control.removeAttribute('aria-invalid');
      }
    };
    form.addEventListener('input', edited);
    form.addEventListener('change', edited);

    dlg.addEventListener('keydown', e => {
      if (e.key === 'Tab') keepFocus(e, dlg);
      else if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && !form.hidden) { e.preventDefault(); form.requestSubmit(); }
    });
    dlg.addEventListener('cancel', e => { e.preventDefault(); close(); });
    dlg.addEventListener('close', () => finish(st));

    main.root.querySelector('dialog')?.remove();
    main.root.append(dlg);
    if (typeof dlg.showModal === 'function') dlg.showModal(); else dlg.setAttribute('open', '');
    if (quote && quote.meToo) meToo(st);
    (notice ? notice.firstChild : quote && quote.meToo ? com : st.picker || cat).focus();
  }

  // "Me too": the comment becomes optional and the report joins the open case.
  function meToo(st) {
    st.meToo = true;
    const c = st.fields.comment.control;
    c.required = false; c.setAttribute('aria-required', 'false');
    c.getRootNode().querySelector('label[for="er-comment"]').textContent = t.commentOpt;
    c.before(h('p', { class: 'hint', text: t.meTooHint }));
    st.submit.textContent = t.meToo;
  }

  // Native modal dialogs let Tab escape to the browser chrome; keep it cycling inside.
  function keepFocus(e, dlg) {
    const items = [...dlg.querySelectorAll(FOCUSABLE)].filter(el => el.getClientRects().length && !el.closest('[hidden],.hp'));
    if (!items.length) return;
    const first = items[0], last = items[items.length - 1], cur = main.root.activeElement;
    if (e.shiftKey ? cur === first || !dlg.contains(cur) : cur === last || !dlg.contains(cur)) {
      e.preventDefault();
      (e.shiftKey ? last : first).focus();
    }
  }

  // Finish synchronously rather than on the async 'close' event, so a shortcut pressed right
  // after closing is never swallowed by a dialog that is already gone.
  function close() {
    const st = active;
    if (!st) return;
    if (st.dlg.open) st.dlg.close();
    finish(st);
  }

  function finish(st) {
    if (active !== st) return;
    active = null;
    st.dlg.remove();
    const o = st.opener;
    if (o && o.isConnected && typeof o.focus === 'function') o.focus();
  }

  function announce(st, msg) {
    // Clearing first makes screen readers repeat an identical message.
    st.live.textContent = '';
    setTimeout(() => { st.live.textContent = msg; }, 50);
  }

  function clearErrors(st) {
    const all = [...Object.values(st.fields), ...st.srcRows.map(r => ({ err: r.err, control: r.input }))];
    for (const f of all) {
      f.err.hidden = true;
      f.err.textContent = '';
      f.control.removeAttribute('aria-invalid');
    }
  }

  function showErrors(st, errs) {
    for (const e of errs) {
      e.f.err.textContent = e.f.err.textContent ? `${e.f.err.textContent} ${e.msg}` : e.msg;
      e.f.err.hidden = false;
      if (e.f.control !== e.f.err) e.f.control.setAttribute('aria-invalid', 'true');
    }
    const first = errs.map(e => e.f.control)
      .sort((a, b) => (a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1))[0];
    const onlyGeneral = errs.every(e => e.f === st.fields.general);
    announce(st, (onlyGeneral ? '' : plural('nErrors', errs.length)) + errs.map(e => (e.label ? e.label + t.colon : '') + e.msg).join(' '));
    if (first) first.focus();
  }

  function labelOf(f) {
    const id = f.control.id, l = id && f.control.getRootNode().querySelector(`label[for="${id}"]`);
    return l ? l.textContent : '';
  }

  function validate(st) {
    const errs = [], F = st.fields, v = n => F[n].control.value;
    const add = (f, msg) => errs.push({ f, msg, label: labelOf(f) });
    if (st.picker && !st.picker.value) add(F.quote, t.pickReq);
    if (!v('comment').trim()) { if (!st.meToo) add(F.comment, t.required); }
    else if (chars(v('comment').trim()) > MAX.comment) add(F.comment, fmt(t.tooLong, { n: MAX.comment }));
    if (chars(v('suggested_correction').trim()) > MAX.suggested_correction) add(F.suggested_correction, fmt(t.tooLong, { n: MAX.suggested_correction }));
    const mail = v('reporter.email').trim();
    if (st.notify.checked && !mail) add(F['reporter.email'], t.emailReq);
    else if (st.notify.checked && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(mail)) add(F['reporter.email'], t.badEmail);
    return errs;
  }

  function buildBody(st) {
    const F = st.fields;
    let q = st.quote;
    if (st.picker) {
      const s = article.sentences.find(x => x.id === st.picker.value);
      const root = container();
      q = { exact: s.norm, sentence: s };
      // Context still helps the newsroom when the same sentence appears twice.
      if (root) {
        const idx = indexText(root), span = locate(idx).find(x => x && x.s === s);
        if (span) q = quoteAt(idx, span.start, span.end);
      }
    }
    const body = {};
    if (q.sentence) body.sentence_id = q.sentence.id;
    body.quote = { exact: q.exact };
    if (q.prefix) body.quote.prefix = q.prefix;
    if (q.suffix) body.quote.suffix = q.suffix;
    body.category = F.category.control.value;
    body.comment = F.comment.control.value.trim();
    const cor = F.suggested_correction.control.value.trim();
    if (cor) body.suggested_correction = cor;
    st.sent = st.srcRows.filter(r => r.input.value.trim());
    if (st.sent.length) body.sources = st.sent.map(r => r.input.value.trim());
    if (st.notify.checked) body.reporter = { email: F['reporter.email'].control.value.trim(), notify: true };
    body.website = st.trap.value;
    if (st.meToo) body.me_too = true;
    return JSON.stringify(body);
  }

  function serverField(st, path) {
    const m = /^sources\[(\d+)\]/.exec(path);
    if (m && st.sent && st.sent[+m[1]]) { const r = st.sent[+m[1]]; return { err: r.err, control: r.input }; }
    if (/^reporter/.test(path)) return st.fields['reporter.email'];
    if (/^quote|^sentence_id/.test(path)) return st.fields.quote;
    return st.fields[path] || st.fields.general;
  }

  async function send(st) {
    if (st.sending) return;
    clearErrors(st);
    const errs = validate(st);
    if (errs.length) return showErrors(st, errs);
    const json = buildBody(st);
    // Same payload → same key, so a retry or a double click can never create two reports.
    if (json !== st.lastBody) { st.key = uuid(); st.lastBody = json; }
    st.sending = true;
    st.form.setAttribute('aria-busy', 'true');
    st.submit.disabled = true;
    st.submit.textContent = t.sending;
    announce(st, t.sending);
    let res = null, data = null;
    try {
      res = await fetch(`${API}/api/v1/articles/${encodeURIComponent(article.external_id)}/reports`, {
        method: 'POST', credentials: 'omit', body: json,
        headers: { 'Content-Type': 'application/json', 'Idempotency-Key': st.key, Accept: 'application/json, application/problem+json' },
      });
      data = await res.json().catch(() => null);
    } catch { /* network failure: handled below with the same key kept for the retry */ }
    st.sending = false;
    st.form.removeAttribute('aria-busy');
    st.submit.disabled = false;
    st.submit.textContent = st.meToo ? t.meToo : t.submit;
    if (active !== st) return;
    if (res && res.ok && data && data.reference) return success(st, data);
    const G = st.fields.general;
    if (res && res.status === 422 && data && Array.isArray(data.errors) && data.errors.length) {
      return showErrors(st, data.errors.map(e => {
        const f = serverField(st, String(e.field || ''));
        return { f, msg: e.message || e.code || t.failed, label: labelOf(f) };
      }));
    }
    let msg;
    if (!res) msg = t.network;
    else if (res.status === 429) {
      // Cross-origin pages can only read Retry-After if the server exposes it.
      const secs = parseInt(res.headers.get('Retry-After'), 10);
      msg = plural('retry', Math.max(1, Math.ceil((Number.isFinite(secs) ? secs : 60) / 60)));
    } else msg = `${t.failed} ${(data && (data.detail || data.title)) || ''}`.trim();
    showErrors(st, [{ f: G, msg }]);
    st.submit.focus();
  }

  function success(st, data) {
    st.form.hidden = true;
    const title = h('h3', { tabindex: '-1', text: t.thanks });
    // Only ever link to a web page, whatever the response contains.
    const safe = /^https?:\/\//i.test(data.status_url || '');
    const link = safe ? h('a', { class: 'btn pri', href: data.status_url, target: '_blank', rel: 'noopener', text: t.follow }) : null;
    const ok = h('button', { type: 'button', class: 'btn', text: t.close });
    ok.addEventListener('click', () => close());
    // The link is the reader's only way back: shown in full, with a copy button.
    let keep = null;
    if (safe) {
      const url = h('input', { type: 'text', id: 'er-link', class: 'url', readonly: true, value: data.status_url });
      const copy = h('button', { type: 'button', class: 'btn copy', text: t.copy });
      copy.addEventListener('click', async () => {
        url.select();
        try { await navigator.clipboard.writeText(data.status_url); } catch { document.execCommand('copy'); }
        announce(st, t.copied);
      });
      keep = h('div', { class: 'fld' }, h('label', { for: url.id, text: t.link }), h('div', { class: 'row' }, url, copy));
      // "Email me this link": the server mails a new link to the same page (the shown one is never stored).
      const em = h('input', { type: 'email', id: 'er-mail-link', autocomplete: 'email', maxlength: '254', value: st.fields['reporter.email'].control.value.trim() });
      const send = h('button', { type: 'button', class: 'btn mail', text: t.mailMe });
      const said = h('p', { class: 'said', role: 'status' });
      send.addEventListener('click', async () => {
        if (!em.value.trim() || !em.checkValidity()) { said.textContent = t.badEmail; em.focus(); return; }
        send.disabled = true;
        let r = null;
        try {
          r = await fetch(`${API}/api/v1/reports/status/${encodeURIComponent(data.status_url.split('/r/').pop())}/email`, {
            method: 'POST', credentials: 'omit', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email: em.value.trim() }) });
        } catch { /* said below */ }
        send.disabled = false;
        said.textContent = !r ? t.network : r.status === 202 ? t.mailed : r.status === 429 ? t.mailMax : r.status === 422 ? t.badEmail : t.failed;
      });
      keep = h('div', {}, keep, h('div', { class: 'fld' }, h('label', { for: em.id, text: t.mailLink }), h('div', { class: 'row' }, em, send), said));
    }
    store(null);
    st.done.append(title,
      h('p', { class: 'msg', text: data.message || '' }),
      h('p', { class: 'refline' }, t.ref, h('strong', { class: 'ref', text: data.reference })),
      keep,
      h('div', { class: 'acts' }, ok, link));
    st.done.hidden = false;
    title.focus();
    announce(st, `${data.message || t.thanks} ${t.ref}${data.reference}`);
    getSelection().removeAllRanges();
  }

  // ---------- what is already known ----------
  // Asked after the widget is ready, so it never delays the page; a failure only means no marks.
  async function loadKnown() {
    try {
      const res = await fetch(`${API}/api/v1/articles/${encodeURIComponent(article.external_id)}/known`, { credentials: 'omit', headers: { Accept: 'application/json' } });
      if (!res.ok) return;
      for (const k of (await res.json()).sentences) known[k.sentence_id] = k;
      mark();
    } catch { /* no marks */ }
  }

  // Wraps each known sentence's text in <erratum-mark> elements (last first, so earlier offsets
  // stay valid), styled through the CSSOM, the first one focusable.
  function mark() {
    const root = container();
    if (!root) return;
    const idx = indexText(root);
    const spans = locate(idx).filter(x => x && known[x.s.id]).sort((a, b) => b.start - a.start);
    for (const sp of spans) {
      const k = known[sp.s.id], fixed = !!k.correction, parts = [];
      for (const e of idx.nodes.filter(e => e.start < sp.end && e.end > sp.start).reverse()) {
        const at = i => { let j = 0; while (j < e.offs.length - 1 && e.offs[j] < i) j++; return j; };
        const a = at(Math.max(sp.start, e.start)), b = at(Math.min(sp.end, e.end));
        if (a >= b) continue;
        const r = document.createRange(), m = document.createElement('erratum-mark');
        r.setStart(e.n, a); r.setEnd(e.n, b);
        try { r.surroundContents(m); } catch { continue; }
        m.dataset.k = fixed ? 'fixed' : 'open';
        for (const [p, v] of [['text-decoration', `underline ${fixed ? 'solid' : 'dotted'} ${fixed ? '#1c6b3a' : '#8a8a8a'}`], ['text-decoration-thickness', '2px'], ['text-underline-offset', '.2em'], ['cursor', 'help']]) m.style.setProperty(p, v);
        m.addEventListener('mouseenter', () => showTip(sp.s, m.first));
        m.addEventListener('mouseleave', () => hideTip(true));
        parts.push(m);
      }
      const first = parts[parts.length - 1];
      if (!first) continue;
      for (const p of parts) p.first = first;
      first.tabIndex = 0;
      first.setAttribute('role', 'button');
      first.setAttribute('aria-expanded', 'false');
      first.addEventListener('focus', () => { if (muted === first) muted = null; else showTip(sp.s, first); });
      first.addEventListener('blur', () => hideTip(true));
      first.addEventListener('keydown', e => {
        if (e.key === 'Enter' && !e.ctrlKey && !e.metaKey) { e.preventDefault(); showTip(sp.s, first); tip.querySelector('button').focus(); }
      });
    }
  }

  let tipTimer = 0, muted = null; // muted: the mark focus returns to after Esc, without reopening
  function showTip(s, m) {
    if (active) return;
    clearTimeout(tipTimer);
    hideTip();
    const k = known[s.id];
    const again = h('button', { type: 'button', class: 'lnk', text: k.correction ? t.anyway : t.meToo });
    tip = h('div', { class: 'r tip', role: 'dialog', 'aria-label': k.correction ? t.fixed : t.open, lang },
      k.correction
        ? [h('p', { class: 'meta', text: t.fixedOn + day(k.correction.published_at) }), h('p', { text: k.correction.text })]
        : h('p', { text: t.open }),
      again);
    tip.mark = m;
    m.setAttribute('aria-expanded', 'true');
    again.addEventListener('click', () => {
      const root = container(), idx = indexText(root), span = locate(idx).find(x => x && x.s === s);
      if (!span) return;
      const q = quoteAt(idx, span.start, span.end);
      if (k.correction) q.force = true; else q.meToo = true;
      open(q, m);
    });
    tip.addEventListener('mouseenter', () => clearTimeout(tipTimer));
    tip.addEventListener('mouseleave', () => hideTip(true));
    tip.addEventListener('focusout', e => { if (!tip || !tip.contains(e.relatedTarget)) hideTip(true); });
    main.root.append(tip);
    const r = m.getBoundingClientRect(), w = tip.offsetWidth, hgt = tip.offsetHeight;
    const y = r.bottom + hgt + 8 < innerHeight ? r.bottom + 6 : Math.max(8, r.top - hgt - 6);
    tip.style.setProperty('left', `${Math.round(Math.max(8, Math.min(innerWidth - w - 8, r.left)))}px`);
    tip.style.setProperty('top', `${Math.round(y)}px`);
  }

  // Later (so the pointer can travel into the popup), or now.
  function hideTip(later) {
    clearTimeout(tipTimer);
    if (later) { tipTimer = setTimeout(() => { if (tip && !tip.matches(':hover') && !tip.contains(main.root.activeElement)) hideTip(); }, 300); return; }
    if (!tip) return;
    tip.mark.setAttribute('aria-expanded', 'false');
    tip.remove();
    tip = null;
  }

  // ---------- entry point ----------
  function entry(label, block) {
    const m = mount('erratum-entry');
    if (block) m.host.setAttribute('data-block', '');
    const btn = h('button', { type: 'button', class: 'r entry', lang, 'aria-haspopup': 'dialog', text: label });
    btn.addEventListener('click', () => open(quoteFromSelection(), btn));
    m.root.append(btn);
    return m.host;
  }

  function installEntry(root) {
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    let node = null;
    for (let n; (n = walker.nextNode());) {
      if (FOOTER_RE.test(n.data) && !/^(script|style|noscript|template|title|textarea)$/.test(n.parentElement.localName)) { node = n; break; }
    }
    const el = node && node.parentElement;
    if (el && el.closest('a,button')) {
      // The newsroom already made it interactive (e.g. a mailto link): just take it over.
      el.closest('a,button').addEventListener('click', e => { e.preventDefault(); open(quoteFromSelection(), e.currentTarget); });
    } else if (el) {
      const label = norm(el.textContent);
      el.replaceChildren(entry(label, false));
    } else if (root) {
      root.append(entry(t.report, true));
    }
  }

  // ---------- boot ----------
  async function load() {
    const url = ds.article
      ? `${API}/api/v1/articles/${encodeURIComponent(ds.article)}`
      : `${API}/api/v1/articles?url=${encodeURIComponent(ds.url || location.href)}`;
    const res = await fetch(url, { credentials: 'omit', headers: { Accept: 'application/json' } });
    if (!res.ok) throw new Error(`article lookup failed (${res.status})`);
    const a = await res.json();
    for (const s of a.sentences) s.norm = norm(s.text);
    return a;
  }

  // The words in the language the tag resolves to on the server (its `lang`).
  async function loadStrings(tag) {
    const res = await fetch(`${API}/widget/strings/${encodeURIComponent(tag)}.json`, { credentials: 'omit' });
    if (!res.ok) throw new Error(`strings lookup failed (${res.status})`);
    const w = await res.json();
    lang = w.lang;
    t = { ...w.strings, cats: CATS.map(c => w.category[c]) };
  }

  async function init() {
    main = mount('erratum-widget');
    main.host.setAttribute('data-state', 'loading');
    fab = h('button', { type: 'button', class: 'r fab', lang, hidden: !canPopover, popover: canPopover ? 'manual' : null });
    main.root.append(fab);
    document.body.append(main.host);
    try {
      article = await load();
      await loadStrings(ds.lang || article.language || lang);
    } catch (err) {
      main.host.setAttribute('data-state', 'error');
      console.warn('Erratum:', err.message);
      return;
    }
    fab.textContent = t.report;
    fab.lang = lang;
    installEntry(container());
    loadKnown();

    fab.addEventListener('pointerdown', e => e.preventDefault()); // keep the selection alive
    fab.addEventListener('click', () => { const q = pending || quoteFromSelection(); if (q) open(q); });
    document.addEventListener('selectionchange', onSelection);
    addEventListener('pointerdown', e => { pointerDown = true; pointerType = e.pointerType; }, true);
    addEventListener('pointerup', () => { pointerDown = false; onSelection(); }, true);
    addEventListener('scroll', () => { if (pending) placeFab(); }, { passive: true, capture: true });
    addEventListener('resize', () => { if (pending) placeFab(); });
    addEventListener('keydown', e => {
      if (active) return;
      if (e.key === 'Escape' && pending) hideFab();
      if (e.key === 'Escape' && tip) {
        const o = tip.mark, inside = tip.contains(main.root.activeElement);
        hideTip();
        if (inside) { muted = o; o.focus(); }
      }
      if (e.key !== 'Enter' || !(e.ctrlKey || e.metaKey)) return;
      const q = quoteFromSelection();
      if (q) { e.preventDefault(); open(q); }
    }, true);
    document.addEventListener('click', e => {
      const touch = pointerType ? pointerType === 'touch' : matchMedia('(pointer: coarse)').matches;
      const r = container(), sel = getSelection();
      if (!touch || active || !r || !r.contains(e.target) || (sel && !sel.isCollapsed)) return;
      if (e.target.closest('a,button,input,select,textarea,label,summary,[contenteditable]')) return;
      const m = e.target.closest('erratum-mark');
      if (m && m.first) { m.first.focus(); return; }
      if (selectSentenceAt(e.clientX, e.clientY)) onSelection();
    });
    await main.ready;
    main.host.setAttribute('data-state', 'ready');
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init, { once: true });
  else init();
})();
