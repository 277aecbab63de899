import { Transform } from 'node:stream';
import { fmtBytes } from '../internal/format.js';
import { fmtClock } from './units.js';

/** A progress line is on screen without its newline: whoever writes to stderr next ends it first. */
let open: NodeJS.WriteStream | undefined;

/** Ends a progress line left open (Ctrl-C, an error), so the next message starts on its own line. */
export function endProgressLine(): void {
  open?.write('\n');
  open = undefined;
}

/**
 * One stderr line per transfer, redrawn at most 5 times a second: the file name, percent,
 * bytes, rate, elapsed time and ETA. Only on a TTY: piped or redirected stderr stays clean for
 * scripts. `start` is where a resumed transfer begins (counted, but not in the rate).
 */
export class Progress {
  private readonly enabled: boolean;
  private readonly started = Date.now();
  private bytes: number;
  private drawn = 0;

  constructor(
    private label: string,
    private readonly total: number | undefined,
    private readonly start = 0,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    /** Off when the bytes themselves go to the terminal: the meter would be drawn over them (curl does the same). */
    toTerminal = false,
  ) {
    this.enabled = stream.isTTY === true && !toTerminal;
    this.bytes = start;
    // A name from a server goes to a terminal: no escape sequences.
    // eslint-disable-next-line no-control-regex -- control characters are what this replaces
    this.label = label.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  }

  /** A pass-through Transform that counts what flows through it. */
  meter(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _enc, cb) => {
        this.add(chunk.byteLength);
        cb(null, chunk);
      },
    });
  }

  add(n: number): void {
    this.at(this.bytes + n);
  }

  /** The count so far, from a source that reports totals (an upload's progress events). */
  at(bytes: number): void {
    this.bytes = bytes;
    if (this.enabled && Date.now() - this.drawn >= 200) this.draw(false);
  }

  /**
   * The transfer starts again from `offset` (a dropped connection, resumed where the store
   * stands): what was sent past it is counted again as it is re-sent, not twice.
   */
  restartAt(offset: number): void {
    this.bytes = offset;
  }

  /** Bytes of the file this run moved (not the resumed prefix; re-sent bytes once). */
  get sent(): number {
    return this.bytes - this.start;
  }

  /** A line about this transfer (where it resumed) for the reader at the terminal, like the meter: not for scripts. */
  say(line: string): void {
    if (!this.enabled) return;
    endProgressLine();
    this.stream.write(`chunkstream: ${line}\n`);
  }

  finish(): void {
    if (this.enabled) this.draw(true);
  }

  private draw(final: boolean): void {
    this.drawn = Date.now();
    const secs = Math.max((Date.now() - this.started) / 1000, 0.001);
    const rate = (this.bytes - this.start) / secs;
    const known = this.total !== undefined && this.total > 0;
    const pct = known ? `${String(Math.floor((this.bytes / this.total) * 100)).padStart(3)}%  ` : '';
    const of = this.total !== undefined ? ` / ${fmtBytes(this.total)}` : '';
    const eta = known && rate > 0 && !final ? `  ETA ${fmtClock((this.total - this.bytes) / rate)}` : '';
    const line = `${this.label}  ${pct}${fmtBytes(this.bytes)}${of}  ${fmtBytes(rate)}/s  ${fmtClock(secs)}${eta}`;
    this.stream.write(`\r\x1b[K${line}${final ? '\n' : ''}`);
    open = final ? undefined : this.stream;
  }
}
