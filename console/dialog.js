// The in-page confirmation: a modal <dialog> (the rest of the page is inert while it is open),
// focus kept inside it, Esc or Cancel says no, and focus goes back to where it was.

const dialog = () => document.getElementById('confirm');

/** Ask; resolves true only on the Confirm button. */
export function confirmAction(title, text, okLabel = 'Confirm') {
  const d = dialog();
  const ok = document.getElementById('confirm-ok');
  const cancel = document.getElementById('confirm-cancel');
  const opener = document.activeElement;
  const openerKey = opener?.dataset?.key;
  document.getElementById('confirm-title').textContent = title;
  document.getElementById('confirm-text').textContent = text;
  ok.textContent = okLabel;
  return new Promise((resolve) => {
    let settled = false;
    const done = (answer) => {
      if (settled) return;
      settled = true;
      ok.removeEventListener('click', onOk);
      cancel.removeEventListener('click', onCancel);
      d.removeEventListener('cancel', onCancel);
      d.removeEventListener('close', onClose);
      d.removeEventListener('keydown', trap);
      if (d.open) d.close();
      // The opener may have been re-rendered meanwhile: find it again by its key.
      const back = opener?.isConnected ? opener : openerKey ? document.querySelector(`[data-key="${CSS.escape(openerKey)}"]`) : null;
      back?.focus();
      resolve(answer);
    };
    const onOk = () => done(true);
    // Closed some other way (sign-out closes it): a no, and no listener is left behind to act on
    // a later confirmation.
    const onClose = () => done(false);
    const onCancel = (e) => {
      e?.preventDefault?.();
      done(false);
    };
    // Tab and Shift+Tab cycle between the dialog's buttons.
    const trap = (e) => {
      if (e.key !== 'Tab') return;
      const items = [...d.querySelectorAll('button')];
      const i = items.indexOf(document.activeElement);
      const next = e.shiftKey ? (i <= 0 ? items.length - 1 : i - 1) : i === items.length - 1 ? 0 : i + 1;
      e.preventDefault();
      items[next].focus();
    };
    ok.addEventListener('click', onOk);
    cancel.addEventListener('click', onCancel);
    d.addEventListener('cancel', onCancel);
    d.addEventListener('close', onClose);
    d.addEventListener('keydown', trap);
    d.showModal();
    cancel.focus();
  });
}

export const dialogOpen = () => dialog().open;
