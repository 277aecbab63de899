import { isLoopback, startServer, type ServerOptions } from '../gateway/server.js';

/** Runs until SIGINT/SIGTERM, then closes cleanly: nothing committed is lost. */
export async function serve(options: ServerOptions): Promise<void> {
  const running = await startServer(options);
  const closed = new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      // A second signal means "now": exit without waiting for the clean close.
      if (stopping) process.exit(signal === 'SIGINT' ? 130 : 143);
      stopping = true;
      const drain = options.drainTimeoutMs
        ? ` (transfers in flight may finish for ${options.drainTimeoutMs / 1000} s; a second signal stops at once)`
        : '';
      process.stderr.write(`chunkstream: ${signal}: shutting down${drain}\n`);
      running.close().then(resolve, (err) => {
        process.stderr.write(`chunkstream: close: ${(err as Error).message}\n`);
        process.exitCode = 1;
        resolve();
      });
    };
    process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  });
  // Handlers first, then the line: whoever waits for the URL may signal us at once.
  if ((options.tokens ?? []).length === 0) {
    const where = isLoopback(running.host) ? '' : ' (non-loopback host: --insecure given)';
    process.stderr.write(`chunkstream: warning: no tokens configured, anyone who can connect may read and write${where}\n`);
  }
  const anyOrigin = [...(options.allowOrigins ?? []), ...(options.corsOrigins ?? [])].includes('*');
  if (anyOrigin && (options.tokens ?? []).length === 0) {
    process.stderr.write('chunkstream: warning: any web page may use this server (origin * without tokens)\n');
  }
  running.logger.info({ kind: 'server', url: running.url, metricsUrl: running.metricsUrl }, `listening on ${running.url}`);
  process.stdout.write(`chunkstream listening on ${running.url}\n`);
  await closed;
}
