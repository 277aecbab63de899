import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/core.js';
import { assertBuilt, cli } from '../helpers/http-cli.js';
import { testServerPerSuite, upload } from '../helpers/http-server.js';

// Issue 25, bug 2: `get -o` into a place that cannot take a file printed Node's stack trace
// (an unhandled 'error' event of the output stream), locally and with --server.
const data = randomBytes(100_000);
const ONE_LINE = /^chunkstream: bad_request: cannot write \/proc\/x[^\n]*\n$/;
let tmp: string;
let localId: string;

beforeAll(async () => {
  assertBuilt();
  tmp = await tempDir('unwritable');
  await writeFile(path.join(tmp, 'in.bin'), data);
  const put = await cli(['put', path.join(tmp, 'in.bin'), '--dir', path.join(tmp, 'store')]);
  expect(put.stderr).toBe('');
  localId = put.stdout.toString().trim();
});

describe('get -o into a place that cannot hold the file: one line naming it, exit 1', () => {
  const t = testServerPerSuite();

  for (const range of [[], ['--range', '0-99']]) {
    it(`a local store${range.length ? ' (--range)' : ''}`, async () => {
      // procfs answers ENOENT to every create: what a read-only or vanished place does to us.
      const r = await cli(['get', localId, '-o', '/proc/x', ...range, '--dir', path.join(tmp, 'store')]);
      expect(r.stderr).toMatch(ONE_LINE);
      expect(r.code).toBe(1);
    });

    it(`--server${range.length ? ' (--range)' : ''}`, async () => {
      const file = await upload(t.url, 'in.bin', data);
      const r = await cli(['get', file.id, '-o', '/proc/x', ...range, '--server', t.url]);
      expect(r.stderr).toMatch(ONE_LINE);
      expect(r.code).toBe(1);
    });
  }

  it('-O in such a place names the file too', async () => {
    const r = await cli(['get', localId, '-O', '--dir', path.join(tmp, 'store')], { cwd: '/proc' });
    expect(r.stderr).toMatch(/^chunkstream: [a-z_]+: [^\n]*\/proc\/in\.bin[^\n]*\n$/);
    expect(r.code).toBe(1);
  });
});
