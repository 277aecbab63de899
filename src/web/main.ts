// The web page served at / by `chunkstream serve`: uploads, the file list, downloads, deletes.
import { Bulk, confirmDelete } from './bulk.js';
import { byId, copyText } from './dom.js';
import { Downloads } from './downloads.js';
import { FileTable, type FileAction } from './files.js';
import { createLink, linkLifetime, validUntil } from './links.js';
import { describe, errorCode } from './messages.js';
import { pruneRemembered } from './resume.js';
import type { FileInfo } from './sdk.js';
import { loadConfig, Session } from './session.js';
import { Transfers } from './transfers.js';
import { Uploads } from './uploads.js';
import { Notices, wireDrop } from './ui.js';

const notices = new Notices();

async function boot(): Promise<void> {
  pruneRemembered();
  const config = await loadConfig();
  const session = new Session(config);
  const transfers = new Transfers();
  const downloads = new Downloads(session, transfers);
  const tokenForm = byId<HTMLFormElement>('token-form');
  const tokenInput = byId<HTMLInputElement>('token');
  const tokenError = byId('token-error');
  const app = byId('app');
  const conn = byId('conn');
  const signout = byId<HTMLButtonElement>('signout');

  // Coalesced: many uploads finishing together cause one more list call, not one each.
  let listing: Promise<void> | undefined;
  let again = false;
  const refresh = async (): Promise<void> => {
    if (listing) {
      again = true;
      return listing;
    }
    listing = (async () => {
      do {
        again = false;
        try {
          const asked = table.mark();
          table.set(await (await session.get()).list(), asked);
        } catch (err) {
          onError(err, 'Could not load the file list');
        }
      } while (again);
    })().finally(() => (listing = undefined));
    return listing;
  };
  // A committed file is listed at once: the list call goes over the same WebSocket, behind the
  // frames of the uploads still running, and could take as long as they do to come back.
  const uploads = new Uploads(session, transfers, (file) => {
    table.add(file);
    void refresh();
  });

  const askToken = (message?: string) => {
    byId<HTMLInputElement>('token-user').value = location.host;
    app.hidden = true;
    tokenForm.hidden = false;
    signout.hidden = true;
    conn.textContent = 'Not connected';
    tokenError.hidden = !message;
    tokenError.textContent = message ?? '';
    if (message) tokenInput.setAttribute('aria-invalid', 'true');
    tokenInput.setAttribute('aria-describedby', 'token-error');
    tokenInput.focus();
    tokenInput.select();
  };

  const onError = (err: unknown, what: string) => {
    if (errorCode(err) === 'unauthorized') return askToken(describe(err));
    notices.alert(
      `${what}: ${describe(err)}`,
      errorCode(err) === 'connection_lost' ? { label: 'Reconnect', run: () => void start() } : undefined,
    );
    if (errorCode(err) === 'connection_lost') conn.textContent = 'Connection lost';
  };

  const start = async (token?: string) => {
    conn.textContent = 'Connecting…';
    try {
      await session.open(token);
    } catch (err) {
      if (errorCode(err) === 'unauthorized') return askToken(describe(err));
      conn.textContent = 'Not connected';
      return onError(err, 'Could not connect to the server');
    }
    notices.clear();
    tokenForm.hidden = true;
    tokenInput.value = '';
    tokenInput.removeAttribute('aria-invalid');
    app.hidden = false;
    signout.hidden = !config.auth;
    conn.textContent = 'Connected';
    conn.title = `Connected to ${location.host}`;
    await refresh();
  };

  const act = async (action: FileAction, file: FileInfo, button: HTMLButtonElement) => {
    try {
      if (action === 'download') downloads.save(file);
      else if (action === 'copy-sha') {
        await copyText(file.sha256);
        notices.status(`Copied the SHA-256 of ${file.name}.`);
      } else if (action === 'share') {
        const link = await createLink(session, file.id, linkLifetime());
        await copyText(link.url);
        notices.status(`Copied a share link to ${file.name}${validUntil(link)}.`);
      } else if (action === 'delete' && (await confirmDelete([file]))) {
        await (await session.get()).remove(file.id);
        table.remove([file.id]);
        notices.status(`Deleted ${file.name}.`);
        await refresh();
        byId('files-heading').focus(); // the row and its button are gone
        return;
      }
    } catch (err) {
      onError(err, `Could not ${action === 'copy-sha' ? 'copy' : action} ${file.name}`);
    }
    if (button.isConnected) button.focus();
  };
  const bulk = new Bulk(session, () => table, notices, refresh, onError);
  const table = new FileTable(
    config.links,
    (a, f, b) => void act(a, f, b),
    (files) => bulk.show(files),
  );
  for (const el of Array.from(document.querySelectorAll<HTMLElement>('.links-only'))) el.hidden = !config.links;

  tokenForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const token = tokenInput.value.trim();
    if (token) void start(token);
  });
  signout.addEventListener('click', () => void session.forget().then(() => askToken()));
  byId('refresh').addEventListener('click', () => void refresh());
  wireDrop((files) => uploads.add(files));

  if (config.auth && !session.token) askToken();
  else await start();
}

boot().catch((err) => notices.alert(`The page could not start: ${describe(err)}`, { label: 'Reload', run: () => location.reload() }));
