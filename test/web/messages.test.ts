import { describe, expect, it } from 'vitest';
import { canRetry, describe as say } from '../../src/web/messages.js';

describe("the page's error messages (issue 25)", () => {
  it('offers no Retry for what fails the same way every time', () => {
    for (const code of ['bad_request', 'too_large', 'invalid_option']) expect(canRetry({ code, message: 'x' }), code).toBe(false);
    for (const code of ['connection_lost', 'busy', 'storage', 'internal', 'integrity'])
      expect(canRetry({ code, message: 'x' }), code).toBe(true);
  });

  it('says too_large in sizes people read, from either of the server’s messages', () => {
    const declared = { code: 'too_large', message: 'file of 157286400 bytes exceeds maxFileSize (1048576)' };
    expect(say(declared)).toBe('This file is 150.0 MiB: this server takes files up to 1.0 MiB.');
    const found = { code: 'too_large', message: 'file exceeds maxFileSize (1048576 bytes)' };
    expect(say(found, { size: 3 * 1024 * 1024 })).toBe('This file is 3.0 MiB: this server takes files up to 1.0 MiB.');
    expect(say(found)).toBe('This file is too large: this server takes files up to 1.0 MiB.');
    expect(say({ code: 'too_large', message: 'something else' })).toBe('Too large for this server: something else');
  });
});
