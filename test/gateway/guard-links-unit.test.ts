import { describe, expect, it } from 'vitest';
import { createRequestGuard, isLoopbackName, parseAuthority } from '../../src/gateway/guard.js';
import { LINK_SECRET_KEY, linkSecretProvider } from '../../src/gateway/link-secret.js';
import { linkQuery, parseLinkRequest, signLink, verifyLink } from '../../src/gateway/links.js';
import { resolveServerOptions } from '../../src/gateway/server-options.js';
import { createMemoryStore } from '../../src/index.js';

describe('Host guard (pure)', () => {
  const loop = createRequestGuard({ listenHost: '127.0.0.1' });
  it.each([
    'localhost',
    'localhost:8080',
    'LOCALHOST.',
    'app.localhost:3000',
    '127.0.0.1',
    '127.0.0.1:80',
    '127.8.9.10:1',
    '[::1]',
    '[::1]:8080',
    '[0:0:0:0:0:0:0:1]',
  ])('loopback listen: %s is answered', (host) => expect(loop.checkHost(host)).toBeUndefined());
  it.each(['evil.example', 'evil.example:8080', '127.0.0.1.evil.example', 'localhost.evil.example', '10.0.0.1', '[::2]', 'a b', 'x@y', ''])(
    'loopback listen: %j is 421 misdirected',
    (host) => expect(loop.checkHost(host)).toMatchObject({ code: 'misdirected', status: 421 }),
  );
  it('no Host header (HTTP/1.0) is accepted: browsers always send one', () => {
    expect(loop.checkHost(undefined)).toBeUndefined();
  });
  it('allowHosts: exact names, .domain for subdomains, *; loopback names stay allowed', () => {
    const g = createRequestGuard({ listenHost: '127.0.0.1', allowHosts: ['Files.Example.com', '.corp.example'] });
    expect(g.checkHost('files.example.com:443')).toBeUndefined();
    expect(g.checkHost('corp.example')).toBeUndefined();
    expect(g.checkHost('a.b.corp.example')).toBeUndefined();
    expect(g.checkHost('evilcorp.example')).toBeDefined();
    expect(g.checkHost('localhost')).toBeUndefined();
    expect(createRequestGuard({ listenHost: '127.0.0.1', allowHosts: ['*'] }).checkHost('anything.example')).toBeUndefined();
  });
  it('a non-loopback listen address answers any Host unless allowHosts narrows it; the public URL host counts', () => {
    expect(createRequestGuard({ listenHost: '0.0.0.0' }).checkHost('evil.example')).toBeUndefined();
    const narrowed = createRequestGuard({ listenHost: '0.0.0.0', allowHosts: ['files.example'], publicUrl: 'https://cdn.example/x' });
    expect(narrowed.checkHost('evil.example')).toBeDefined();
    expect(narrowed.checkHost('files.example')).toBeUndefined();
    expect(narrowed.checkHost('cdn.example')).toBeUndefined();
  });
  it('names and authorities', () => {
    expect(isLoopbackName('127.256.0.1')).toBe(false);
    expect(parseAuthority('[::1]:08080')).toEqual({ hostname: '[::1]', port: '8080' });
    expect(parseAuthority('host:99999x')).toBeUndefined();
  });
});

describe('Origin guard and CORS (pure)', () => {
  const g = createRequestGuard({
    listenHost: '127.0.0.1',
    allowOrigins: ['http://app.example:3000'],
    corsOrigins: ['https://web.example'],
  });
  it.each([
    [undefined, '127.0.0.1:8080'], // not a browser
    ['http://127.0.0.1:8080', '127.0.0.1:8080'], // same origin
    ['http://localhost', 'localhost:80'],
    ['https://files.example', 'files.example'], // behind a TLS proxy: no port in Host
    ['http://app.example:3000', '127.0.0.1:8080'], // allowOrigins
    ['https://web.example', '127.0.0.1:8080'], // corsOrigins allow too
    ['HTTPS://WEB.EXAMPLE:443', '127.0.0.1:8080'],
  ])('Origin %s with Host %s is allowed', (origin, host) => {
    expect(g.checkOrigin(origin, host)).toBeUndefined();
  });
  it.each([
    ['http://evil.example', '127.0.0.1:8080'],
    ['http://127.0.0.1:9999', '127.0.0.1:8080'], // another port is another origin
    ['http://localhost:8080', '127.0.0.1:8080'],
    ['https://files.example', 'files.example:80'],
    ['null', '127.0.0.1:8080'],
    ['file://', '127.0.0.1:8080'],
    ['http://app.example:3001', '127.0.0.1:8080'],
    ['http://127.0.0.1:8080', undefined],
  ])('Origin %s with Host %s is 403 forbidden', (origin, host) => {
    expect(g.checkOrigin(origin, host)).toMatchObject({ code: 'forbidden', status: 403 });
  });
  it('CORS answers only its origins, `*` answers any', () => {
    expect(g.cors).toBe(true);
    expect(g.corsOrigin('https://web.example')).toBe('https://web.example');
    expect(g.corsOrigin('http://app.example:3000')).toBeUndefined(); // allowed, but not a CORS origin
    expect(createRequestGuard({ listenHost: '127.0.0.1' }).cors).toBe(false);
    const any = createRequestGuard({ listenHost: '127.0.0.1', corsOrigins: ['*'] });
    expect(any.corsOrigin('http://whatever.example')).toBe('*');
    expect(any.checkOrigin('http://whatever.example', 'localhost')).toBeUndefined();
  });
  it('options are validated, naming the option', () => {
    expect(() => resolveServerOptions({ allowOrigins: ['https://a.example/path'] })).toThrow(/allowOrigins\.0.*must be an origin/);
    expect(() => resolveServerOptions({ corsOrigins: ['app.example'] })).toThrow(/corsOrigins\.0/);
    expect(() => resolveServerOptions({ allowHosts: ['a.example:8080'] })).toThrow(/allowHosts\.0.*without a port/);
    expect(() => resolveServerOptions({ publicUrl: 'ftp://x' })).toThrow(/publicUrl/);
    expect(() => resolveServerOptions({ linkSecret: 'short' })).toThrow(/linkSecret.*32/);
    expect(
      resolveServerOptions({ allowOrigins: ['https://a.example/', '*'], allowHosts: ['.a.example', '[::1]'] }).allowOrigins,
    ).toHaveLength(2);
  });
});

describe('signed links (pure)', () => {
  const secret = Buffer.from('k'.repeat(32));
  const id = '0000000000000000aaaa';
  const url = (q: string) => new URL(`http://h/v1/files/${id}?${q}`);
  it('a valid link verifies until it expires; every tampering is 403', () => {
    const q = linkQuery(secret, id, 2000);
    expect(verifyLink(secret, id, url(q), 1999)).toBe(2000);
    expect(() => verifyLink(secret, id, url(q), 2000)).toThrow(
      expect.objectContaining({ code: 'forbidden', message: expect.stringMatching(/expired/) }),
    );
    expect(() => verifyLink(secret, id, url(q.replace('expires=2000', 'expires=3000')), 1000)).toThrow(/not valid/);
    expect(() => verifyLink(secret, '0000000000000000bbbb', url(q), 1000)).toThrow(/not valid/);
    expect(() => verifyLink(Buffer.from('o'.repeat(32)), id, url(q), 1000)).toThrow(/not valid/);
    const sig = signLink(secret, id, 2000);
    const flipped = (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1);
    expect(() => verifyLink(secret, id, url(`expires=2000&sig=${flipped}`), 1000)).toThrow(/not valid/);
    expect(() => verifyLink(secret, id, url('expires=2000'), 1000)).toThrow(/malformed/);
    expect(() => verifyLink(secret, id, url(`expires=-1&sig=${sig}`), 1000)).toThrow(/malformed/);
  });
  it('the request body: expiresIn in seconds, bounded, default one hour', () => {
    expect(parseLinkRequest('')).toBe(3600);
    expect(parseLinkRequest('{}')).toBe(3600);
    expect(parseLinkRequest('{"expiresIn":60}')).toBe(60);
    for (const bad of ['{"expiresIn":0}', '{"expiresIn":604801}', '{"expiresIn":1.5}', '{"expiresIn":"60"}', '{"other":1}', 'nope'])
      expect(() => parseLinkRequest(bad), bad).toThrow(expect.objectContaining({ code: 'bad_request' }));
  });
});

describe('link secret in the store (through the ChunkStore interface)', () => {
  it('is generated once; every provider on the same store gets the same one', async () => {
    const store = createMemoryStore();
    const [a, b] = await Promise.all([linkSecretProvider(store)(), linkSecretProvider(store)()]);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(a.byteLength).toBe(32);
    expect(JSON.parse(Buffer.from(await store.get(LINK_SECRET_KEY)).toString())).toMatchObject({ version: 1, secret: expect.any(String) });
    const later = await linkSecretProvider(store)();
    expect(Buffer.from(later).equals(Buffer.from(a))).toBe(true);
  });
  it('a configured secret wins and writes nothing; a corrupt stored one is a clear error', async () => {
    const store = createMemoryStore();
    expect(Buffer.from(await linkSecretProvider(store, 'x'.repeat(32))()).toString()).toBe('x'.repeat(32));
    expect(await store.has(LINK_SECRET_KEY)).toBe(false);
    await store.put(LINK_SECRET_KEY, new TextEncoder().encode('{"version":1}'));
    await expect(linkSecretProvider(store)()).rejects.toThrow(/config\/link-secret\.json in the store is corrupt/);
  });
});
