// The console's entry: sign-in with a bearer token kept in sessionStorage, the panels, and the
// polling that refreshes them every few seconds without moving the user (see render in dom.js).
import { api, ApiError, session } from './api.js';
import { notice } from './dom.js';
import { asyncPanel } from './async.js';
import { healthPanel } from './health.js';
import { keysPanel } from './keys.js';
import { streamsPanel } from './streams.js';

const POLL_MS = 3000;
const id$ = (id) => document.getElementById(id);

const panels = [streamsPanel(), asyncPanel(), keysPanel(), healthPanel()];
let timer = null;
let generation = 0;
/** The generation whose polling stopped while the tab was hidden, to resume when it shows again. */
let parked = null;

/** One panel's refresh; a missing scope or an error is explained in the panel, not thrown. */
async function refreshPanel(p) {
  try {
    await p.refresh();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) throw e;
    if (e instanceof ApiError && e.status === 403) {
      p.reset();
      notice(p.body, `This panel needs scope ${e.scope ?? p.scope}: the signed-in token does not have it.`, 'scope');
    } else notice(p.body, `Could not load: ${e.message}`, 'error');
  }
}

async function tick(gen) {
  try {
    await Promise.all(panels.map(refreshPanel));
    if (gen !== generation) return;
    id$('updated').textContent = `Updated ${new Date().toLocaleTimeString()}`;
  } catch (e) {
    // 401: the token was revoked or expired meanwhile.
    if (gen === generation) return signOut('The token is no longer accepted. Sign in again.');
  }
  if (gen !== generation) return;
  // A hidden tab asks nothing: stream stats cost the database a scan of each stream's kept SETs.
  if (document.hidden) parked = gen;
  else timer = setTimeout(() => tick(gen), POLL_MS);
}

document.addEventListener('visibilitychange', () => {
  if (document.hidden || parked !== generation) return;
  parked = null;
  tick(generation);
});

function showPanels() {
  id$('sign-in').hidden = true;
  id$('panels').hidden = false;
  id$('session').hidden = false;
  const gen = ++generation;
  for (const p of panels) notice(p.body, 'Loading…');
  tick(gen);
}

function signOut(message = '') {
  generation++;
  clearTimeout(timer);
  session.clear();
  for (const p of panels) {
    p.reset();
    p.body.replaceChildren();
    p.body.dataset.sig = '';
  }
  if (id$('confirm').open) id$('confirm').close();
  id$('panels').hidden = true;
  id$('session').hidden = true;
  id$('sign-in').hidden = false;
  id$('token').value = '';
  id$('sign-in-error').textContent = message;
  id$('token').focus();
}

id$('sign-in-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const token = id$('token').value.trim();
  const error = id$('sign-in-error');
  if (!token) {
    error.textContent = 'Enter a bearer token.';
    return;
  }
  error.textContent = '';
  try {
    // Any valid token may read its own async requests: a cheap check that the token is accepted.
    await api('/scim/v2/AsyncRequests?count=1', { token });
  } catch (err) {
    error.textContent = err instanceof ApiError && err.status === 401 ? 'This token is not accepted (unknown, expired or revoked).' : `Sign-in failed: ${err.message}`;
    return;
  }
  session.save(token);
  id$('token').value = '';
  showPanels();
  id$('sign-out').focus();
});

id$('sign-out').addEventListener('click', () => signOut());

if (session.token()) showPanels();
else id$('token').focus();
