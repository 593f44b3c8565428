// The case page's duplicate picker (issue 13), by keyboard: `d` focuses the
// proposed originals (arrows choose), Enter on a proposal marks the case a
// duplicate of it; typing a number in the field below uses that number
// instead. Without this script the picker is a plain form.
(() => {
  'use strict';
  const picker = document.getElementById('duplicate-picker');
  if (!picker) return;
  const typing = el => el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName)) &&
    !(el.tagName === 'INPUT' && el.type === 'radio');
  const number = document.getElementById('duplicate-number');
  document.addEventListener('keydown', e => {
    if (e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
    if (e.key === 'd' && !typing(e.target)) {
      const first = picker.querySelector('input[type="radio"]:checked') ||
        picker.querySelector('input[type="radio"]') || number;
      first.scrollIntoView({ block: 'center' });
      first.focus();
      e.preventDefault();
    } else if (e.key === 'Enter' && e.target.type === 'radio' && picker.contains(e.target)) {
      e.preventDefault();
      picker.requestSubmit();
    }
  });
  // A typed number wins over the proposals: clear their choice so the form
  // sends one answer.
  number.addEventListener('input', () => {
    if (number.value.trim() !== '') {
      for (const r of picker.querySelectorAll('input[type="radio"]')) r.checked = false;
    }
  });
})();
