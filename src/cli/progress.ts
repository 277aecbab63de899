import { Transform } from 'node:stream';

/**
 * Counts bytes passing through and redraws one stderr line (bytes, rate, ETA) at most 5 times a
 * second. Only on a TTY: piped or redirected stderr stays clean for scripts. Passes chunks
 * through untouched, so it adds no buffering beyond one Transform's highWaterMark.
 */
export function progressMeter(label: string, total: number | undefined, stream: NodeJS.WriteStream = process.stderr): Transform {
  const meter = progressLine(label, total, stream);
  let bytes = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      meter.update((bytes += chunk.byteLength));
      cb(null, chunk);
    },
    flush(cb) {
      meter.done();
      cb();
    },
  });
}

/** The same line, fed with a byte count (an upload's progress events) instead of a stream. */
export function progressLine(label: string, total: number | undefined, stream: NodeJS.WriteStream = process.stderr) {
  const enabled = stream.isTTY === true;
  const started = Date.now();
  let bytes = 0;
  let drawn = 0;
  const draw = (final: boolean) => {
    const secs = Math.max((Date.now() - started) / 1000, 0.001);
    const rate = bytes / secs;
    const eta = total !== undefined && rate > 0 && !final ? `  ETA ${fmtTime((total - bytes) / rate)}` : '';
    const of = total !== undefined ? ` / ${fmtBytes(total)}` : '';
    stream.write(`\r\x1b[K${label} ${fmtBytes(bytes)}${of}  ${fmtBytes(rate)}/s${eta}${final ? '\n' : ''}`);
  };
  return {
    update(n: number) {
      bytes = n;
      if (enabled && Date.now() - drawn >= 200) {
        drawn = Date.now();
        draw(false);
      }
    },
    done() {
      if (enabled) draw(true);
    },
  };
}

export function fmtBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n.toFixed(0) : n.toFixed(1)} ${units[i]}`;
}

function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${Math.ceil(s)}s`;
  return `${Math.floor(s / 60)}m${String(Math.ceil(s % 60)).padStart(2, '0')}s`;
}
