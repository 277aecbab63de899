import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/core.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const DEPCRUISE = path.join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

// [from folder, to folder, the rule it breaks or undefined] under src/gateway/.
const CASES: [string, string, string | undefined][] = [
  ['ws', 'api', 'gateway-protocols'],
  ['api', 'tus', 'gateway-protocols'],
  ['tus', 'ws', 'gateway-protocols'],
  ['s3', 'api', 'gateway-protocols'],
  ['http', 'ws', 'gateway-http'],
  ['http', 'ops', 'gateway-http'],
  ['ops', 'tus', 'gateway-ops'],
  ['ws', 'http', undefined],
  ['tus', 'ops', undefined],
  ['api', 'api/inner', undefined],
  ['ops', 'http', undefined],
  ['s3', 'base', undefined],
];

/**
 * The gateway's folder rules (.dependency-cruiser.cjs, run by `npm run lint`) on a planted tree:
 * for each case a file src/gateway/<from>/planted-<i>.ts importing src/gateway/<to>/target.ts
 * (`base` is src/gateway/ itself). One depcruise run; the rules each planted file broke.
 */
async function brokenRules(): Promise<Map<string, string[]>> {
  const dir = await tempDir('layout');
  const gw = (folder: string) => path.join(dir, 'src/gateway', folder === 'base' ? '' : folder);
  await writeFile(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'nodenext' } }));
  for (const [i, [from, to]] of CASES.entries()) {
    await mkdir(gw(from), { recursive: true });
    await mkdir(gw(to), { recursive: true });
    await writeFile(path.join(gw(to), 'target.ts'), 'export const target = 1;\n');
    const spec = path.relative(gw(from), path.join(gw(to), 'target.js'));
    await writeFile(path.join(gw(from), `planted-${i}.ts`), `export { target } from '${spec.startsWith('.') ? spec : `./${spec}`}';\n`);
  }
  const args = [DEPCRUISE, '--config', path.join(ROOT, '.dependency-cruiser.cjs'), '--output-type', 'json', 'src'];
  // depcruise exits non-zero when a rule is broken; its JSON report is on stdout either way.
  const { stdout } = await run(process.execPath, args, { cwd: dir }).catch((err: { stdout: string }) => ({ stdout: err.stdout }));
  const report = JSON.parse(stdout) as { summary: { violations: { from: string; rule: { name: string } }[] } };
  const broken = new Map<string, string[]>();
  for (const v of report.summary.violations) broken.set(path.basename(v.from), [...(broken.get(path.basename(v.from)) ?? []), v.rule.name]);
  return broken;
}

describe('gateway layout', () => {
  let broken: Map<string, string[]>;
  beforeAll(async () => {
    broken = await brokenRules();
  });

  it.each(CASES.map(([from, to, rule], i) => ({ from, to, rule, i })))('$from → $to breaks: $rule', ({ rule, i }) => {
    expect(broken.get(`planted-${i}.ts`) ?? []).toEqual(rule ? [rule] : []);
  });
});
