/* global document */
import { api, signOut, signedIn } from './core.js';
import { boxPages } from './boxes.js';
import { generalPages } from './pages.js';
import { sendPage } from './send.js';

const PAGES = { ...generalPages, ...boxPages, send: sendPage };

/** Shows the navigation and who is signed in, on every page that needs a session. */
async function frame() {
  const me = await api('/me');
  document.getElementById('site-navigation').hidden = false;
  document.getElementById('nav-operations').hidden = !me.operator;
  document.getElementById('signed-in-as').textContent = `Signed in as ${me.name}.`;
  return me;
}

document.getElementById('sign-out').addEventListener('click', () => signOut());

const page = document.body.dataset.page;
const run = PAGES[page];
if (run) {
  const needsSession = page !== 'index' && page !== 'callback';
  const start = needsSession || signedIn() ? frame : async () => undefined;
  start()
    .then((me) => run(me))
    .catch(() => undefined);
}
