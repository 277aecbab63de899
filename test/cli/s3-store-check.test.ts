import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/core.js';
import { assertBuilt, cli } from '../helpers/http-cli.js';
import { S3RVER_ENV, s3rverPerSuite } from '../helpers/s3rver.js';

// Issue 25: `ls --store s3://bucket/typo` exited 0 with nothing (a local --dir that holds no
// store says so, exit 1), and a missing bucket said `object files/ not found`.
let env: Record<string, string>;
beforeAll(async () => {
  assertBuilt();
  env = { ...S3RVER_ENV, CHUNKSTREAM_STATE_DIR: path.join(await tempDir('s3-check'), 'state') };
});

describe('read commands on an S3 place that holds no store', () => {
  const s3 = s3rverPerSuite();
  const at = (prefix: string, bucket = s3().bucket) => ['--store', `s3://${bucket}/${prefix}`, '--s3-endpoint', s3().endpoint];

  it('a prefix with nothing under it: "no store", exit 1; one with a store lists it', async () => {
    const put = await cli(['put', path.resolve('package.json'), ...at('real')], { env });
    expect(put.code, put.stderr).toBe(0);
    const ok = await cli(['ls', ...at('real')], { env });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout.toString()).toContain('package.json');

    const typo = await cli(['ls', ...at('typo')], { env });
    expect(typo.stderr).toMatch(
      /^chunkstream: not_found: no store at s3:\/\/chunkstream-test\/typo: nothing is stored under that prefix \(--store names the store\)\n$/,
    );
    expect(typo.code).toBe(1);
  });

  it('a missing bucket is named, for reads and for put', async () => {
    for (const command of [['ls'], ['put', path.resolve('package.json')]]) {
      const r = await cli([...command, ...at('x', 'no-such-bucket')], { env });
      expect(r.stderr, command[0]).toMatch(/^chunkstream: not_found: [^\n]*bucket "no-such-bucket" does not exist[^\n]*\n$/);
      expect(r.code).toBe(1);
    }
  });
});
