import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cli } from '../helpers/http-cli.js';
import { tempDir } from '../helpers/core.js';

// README: `chunkstream get ID --range 0-99` "(also A- and -N)". node:util parseArgs refuses a
// separate value starting with "-" ("argument is ambiguous"): `--range -5` exited 2.
let dir: string;
let id: string;
beforeAll(async () => {
  assertBuilt();
  dir = await tempDir('get-range');
  await writeFile(path.join(dir, 'f.txt'), 'hello world');
  const put = await cli(['put', path.join(dir, 'f.txt'), '--dir', path.join(dir, 's')]);
  expect(put.code).toBe(0);
  id = put.stdout.toString().trim();
});

describe('CLI suffix ranges', () => {
  it('get --range -5 prints the last 5 bytes, like --range=-5', async () => {
    for (const args of [['--range', '-5'], ['--range=-5']]) {
      const r = await cli(['get', id, ...args, '--dir', path.join(dir, 's')]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout.toString()).toBe('world');
    }
  });

  it('get --range -0 is the server-side 416, one line, exit 1; a negative --port still names the flag', async () => {
    const r = await cli(['get', id, '--range', '-0', '--dir', path.join(dir, 's')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^chunkstream: range_not_satisfiable: /);
    const port = await cli(['serve', '--port', '-1', '--dir', path.join(dir, 's')]);
    expect(port.code).toBe(2);
    expect(port.stderr).toMatch(/^chunkstream: invalid_option: --port: /);
  });
});
