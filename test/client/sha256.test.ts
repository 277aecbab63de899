import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSha256, loadNativeSha256, sha256Implementation } from '../../src/client/sha256.js';
import { bytes } from '../helpers/core.js';

describe('client SHA-256', () => {
  it('uses @noble/hashes until node:crypto is loaded, then node:crypto, with the same digests', async () => {
    const data = bytes(300_000, 9);
    const expected = createHash('sha256').update(data).digest('hex');
    const feed = () => {
      const h = createSha256();
      for (let i = 0; i < data.length; i += 65_536) h.update(data.subarray(i, i + 65_536));
      return h.hex();
    };
    expect(sha256Implementation()).toBe('@noble/hashes'); // a fresh module: nothing loaded yet
    expect(feed()).toBe(expected);
    await loadNativeSha256();
    expect(sha256Implementation()).toBe('node:crypto');
    expect(feed()).toBe(expected);
  });
});
