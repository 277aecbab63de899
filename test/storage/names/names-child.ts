// Run by multi-process.test.ts: a second process (a CLI beside a server) storing to names of one
// fs store directory at the same time as the test's own process. Prints one JSON line at the end.
import { writeSync } from 'node:fs';
import { lastValueFrom } from 'rxjs';
import { openStore } from '../../../src/index.js';

const [dir, who, count] = process.argv.slice(2) as [string, string, string];
const store = openStore({ dir, chunkSize: 64 * 1024 });
writeSync(1, 'ready\n');
const text = (s: string) => new TextEncoder().encode(s);
let sharedCreated = 0;
for (let i = 0; i < Number(count); i++) {
  await lastValueFrom(store.uploadTo(`${who}/${String(i).padStart(3, '0')}`, text(`${who} ${i}`)));
  // Every round both processes try to create the same name: one may.
  const once = await lastValueFrom(store.uploadTo(`shared/${i}`, text(`${who} ${i}`), { ifNoneMatch: '*' })).catch(() => undefined);
  if (once) sharedCreated++;
  await lastValueFrom(store.uploadTo('replaced', text(`${who} ${i}`)));
}
writeSync(1, `${JSON.stringify({ sharedCreated })}\n`);
await store.close();
