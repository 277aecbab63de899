import type { WebSocket } from 'ws';
import type { ServerMessage } from '../../protocol/messages.js';

/** Unflushed control bytes past which a connection's socket is no longer read. */
export const CONTROL_HIGH_WATER = 1024 * 1024;

/** What a connection sends: control messages (flood-guarded) and data frames (zero-copy). */
export class Outbox {
  private controlBytes = 0;
  private paused = false;

  constructor(private readonly ws: WebSocket) {}

  /**
   * Control replies are not credit-based, so a client flooding requests without reading could
   * pile them up: past CONTROL_HIGH_WATER bytes unflushed we stop reading its socket (TCP
   * pushes back on it) until half of them are flushed.
   */
  json(msg: ServerMessage): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    const text = JSON.stringify(msg);
    this.controlBytes += text.length;
    this.ws.send(text, () => {
      this.controlBytes -= text.length;
      if (this.paused && this.controlBytes <= CONTROL_HIGH_WATER / 2) {
        this.paused = false;
        this.ws.resume();
      }
    });
    if (!this.paused && this.controlBytes > CONTROL_HIGH_WATER) {
      this.paused = true;
      this.ws.pause();
    }
  }

  /**
   * One binary message straight from the store's buffer (never copied); `sent` runs once ws
   * handed it to the socket, or failed to: only then may the buffer be reused.
   */
  frame(frame: Uint8Array, sent: () => void): void {
    this.ws.send(frame, { binary: true }, () => sent());
  }
}
