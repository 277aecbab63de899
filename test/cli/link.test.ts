import { describe, expect, it } from 'vitest';
import { parseExpires } from '../../src/cli/durations.js';
import { helpFor } from '../../src/cli/help.js';

describe('chunkstream link', () => {
  it('--help shows the server flags as required, no empty store section', () => {
    const help = helpFor('link')!;
    expect(help).not.toMatch(/Where the store is|Or through/);
    expect(help).toMatch(/The server \(.*CHUNKSTREAM_SERVER\):\n {2}--server URL/);
    expect(helpFor('get')).toMatch(/Where the store is[^]*Or through a running server's API/);
  });
});

describe('link --expires: the same durations as serve, 1 s to 7 days', () => {
  it('takes units and combinations; defaults to an hour', () => {
    expect(['90s', '15m', '1h30m', '7d', '1s'].map((v) => parseExpires(v))).toEqual([90, 900, 5400, 604_800, 1]);
    expect(parseExpires(undefined)).toBe(3600);
  });

  it('refuses a bare number (as serve does), sub-second or out-of-bounds values, naming the flag', () => {
    expect(() => parseExpires('90')).toThrow(/--expires.*add a unit \(90s/);
    expect(() => parseExpires('90')).not.toThrow(/90ms/); // issue 25: it suggested what it then refuses
    for (const bad of ['500ms', '1500ms', '8d', '0', 'soon', '']) expect(() => parseExpires(bad)).toThrow(/--expires/);
  });
});
