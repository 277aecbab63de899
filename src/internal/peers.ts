import { createRequire } from 'node:module';
import { MissingDependencyError } from '../errors.js';

/**
 * pino, prom-client and the AWS SDK are optional peer dependencies: a program that only embeds
 * the store or uses `chunkstream/client` never installs them (the AWS SDK alone is 22 MB). The
 * entries that need them load them through here, so a missing one is a coded error naming the
 * npm command instead of Node's ERR_MODULE_NOT_FOUND from deep inside the package.
 */
export async function importWithPeers<T>(feature: string, packages: readonly string[], load: () => Promise<T>): Promise<T> {
  const missing = packages.filter((p) => !installed(p));
  if (missing.length > 0) throw new MissingDependencyError(feature, missing);
  try {
    return await load();
  } catch (err) {
    // Resolvable but not importable from where the module is (another node_modules tree).
    const named = packages.filter((p) => isMissingModule(err, p));
    if (named.length > 0) throw new MissingDependencyError(feature, named, { cause: err });
    throw err;
  }
}

const resolver = createRequire(import.meta.url);

function installed(pkg: string): boolean {
  try {
    resolver.resolve(`${pkg}/package.json`);
    return true;
  } catch {
    // A package whose exports hide package.json still resolves by its name.
    try {
      resolver.resolve(pkg);
      return true;
    } catch {
      return false;
    }
  }
}

function isMissingModule(err: unknown, pkg: string): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : '';
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message.includes(`'${pkg}`);
}
