import { isLoopback, startServer, type ServerOptions } from '../gateway/server.js';

/** Runs until SIGINT/SIGTERM, then closes cleanly: nothing committed is lost. `flag` names an option as the user gave it. */
export async function serve(options: ServerOptions, flag: (option: string) => string = (o) => o): Promise<void> {
  const running = await startServer(options).catch((err: unknown) => {
    throw listenError(err, options, flag);
  });
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

/**
 * A port in use (or a host that is not ours) says which flag chose it: the API's (--port,
 * --host) or the metrics listener's (--metrics-port, --metrics-host). The code stays the
 * system's (`eaddrinuse`, exit 1): the flag is well-formed, the machine is busy.
 */
function listenError(err: unknown, o: ServerOptions, flag: (option: string) => string): unknown {
  const e = err as NodeJS.ErrnoException & { port?: number; address?: string };
  if (e?.syscall !== 'listen') return err;
  // Node leaves `port` out when it was 0 (any free port): then only the host can tell them apart.
  const metrics =
    o.metricsPort !== undefined &&
    (e.port !== undefined
      ? e.port === o.metricsPort && o.metricsPort !== o.port
      : o.metricsHost !== undefined && e.address === o.metricsHost);
  const [port, host] = metrics ? ['metricsPort', 'metricsHost'] : ['port', 'host'];
  const why =
    e.code === 'EADDRINUSE'
      ? `${flag(port)} ${e.port}: ${e.address}:${e.port} is already in use`
      : e.code === 'EADDRNOTAVAIL'
        ? `${flag(host)} ${e.address}: not an address of this machine`
        : e.code === 'EACCES'
          ? `${flag(port)} ${e.port}: not allowed to listen there (ports below 1024 need privileges)`
          : `${flag(port)} ${e.port ?? 0}: ${e.message}`;
  return Object.assign(new Error(why, { cause: err }), { code: e.code });
}
