import { writeFile, mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { lastValueFrom, tap } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/index.js';
import { backdate, bytes, put, tempDir } from '../helpers/core.js';

const chunkSize = 64 * 1024;

/** An upload stopped after `chunks` whole chunks were stored: its session stays, resumable. */
async function interrupted(store: ReturnType<typeof openStore>, chunks: number, name = 'partial.bin'): Promise<void> {
  const controller = new AbortController();
  async function* source() {
    yield bytes(chunks * chunkSize, 9);
    await new Promise(() => undefined); // the rest never comes
  }
  let uploadId = '';
  await expect(
    lastValueFrom(
      store.upload(source(), { name, signal: controller.signal }).pipe(
        tap((e) => {
          if (e.type === 'started') uploadId = e.uploadId;
          if (e.type === 'progress' && e.chunks === chunks) controller.abort();
        }),
      ),
    ),
  ).rejects.toMatchObject({ code: 'aborted' });
  expect((await store.uploadStatus(uploadId)).offset).toBe(chunks * chunkSize); // waits for its last save
}

describe('gc says what it kept and why; unfinished uploads are listed', () => {
  it('right after rm, the chunks are kept as younger than the grace period, and the report says so', async () => {
    const store = openStore({ dir: await tempDir(), chunkSize });
    const file = await put(store, bytes(3 * chunkSize, 1));
    await store.remove(file.id);
    const report = await store.gc();
    expect(report).toMatchObject({ removedChunks: 0, keptChunks: 3, keptRecentChunks: 3, keptReferencedChunks: 0, graceMs: 3600_000 });
    expect(report.keptRecentBytes).toBe(3 * chunkSize);
    expect(report.notes[0]).toMatch(
      /^3 chunks \(192\.0 KiB\) that no file or upload names were kept: they are newer than the grace period \(1 h\)/,
    );
    expect(report.notes[0]).toContain('--grace-ms 0');
    expect(await store.gc({ graceMs: 0 })).toMatchObject({ removedChunks: 3, keptRecentChunks: 0 });
    await store.close();
  });

  it('an unfinished upload is listed, protects its chunks, and goes once aborted', async () => {
    const store = openStore({ dir: await tempDir(), chunkSize });
    await interrupted(store, 2);
    const [u, ...more] = await store.listUploads();
    expect(more).toEqual([]);
    expect(u).toMatchObject({ name: 'partial.bin', offset: 2 * chunkSize, chunkSize, expired: false });
    expect(Date.parse(u!.updated)).toBeGreaterThanOrEqual(Date.parse(u!.created));
    const report = await store.gc({ graceMs: 0 });
    expect(report).toMatchObject({ removedChunks: 0, keptReferencedChunks: 2, keptUploads: 1 });
    expect(report.notes.join(' ')).toContain('1 unfinished upload has not expired and keeps its chunks');
    await store.abortUpload(u!.uploadId);
    expect(await store.listUploads()).toEqual([]);
    expect(await store.gc({ graceMs: 0 })).toMatchObject({ removedChunks: 2, keptUploads: 0 });
    await store.close();
  });

  it('temp files of crashed writes go once older than the stated age; a dry run counts them and deletes nothing', async () => {
    const dir = await tempDir();
    const store = openStore({ dir, chunkSize });
    await mkdir(path.join(dir, 'tmp'), { recursive: true });
    const old = path.join(dir, 'tmp', 'crashed.tmp');
    const young = path.join(dir, 'tmp', 'in-flight.tmp');
    await writeFile(old, 'x');
    await writeFile(young, 'y');
    await backdate(old, 2 * 3600_000);
    const dry = await store.gc({ dryRun: true });
    expect(dry).toMatchObject({ removedTemp: 1, tempMinAgeMs: 3600_000, dryRun: true });
    expect(dry.notes.join(' ')).toContain('removed once older than 1 h (1 would be removed)');
    expect((await readdir(path.join(dir, 'tmp'))).sort()).toEqual(['crashed.tmp', 'in-flight.tmp']);
    expect(await store.gc()).toMatchObject({ removedTemp: 1 });
    expect(await readdir(path.join(dir, 'tmp'))).toEqual(['in-flight.tmp']);
    await store.close();
  });
});
