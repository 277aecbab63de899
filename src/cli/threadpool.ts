// Imported first by main.ts, before any file is touched: libuv sizes its thread pool on first use.
// Its default 4 threads are all taken while a flush syncs 4 chunk files to disk, stalling the
// reads and writes of the chunks behind them; 16 keeps the pipeline moving (a 512 MiB put: ~1.6 s
// → ~1.3 s here). A value the user set wins.
process.env.UV_THREADPOOL_SIZE ??= '16';
export {};
