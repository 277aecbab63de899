import { Socket } from 'node:net';

/**
 * Whether a write to `socket` has copied the bytes by the time its callback runs — a kernel
 * socket (net.Socket, TLSSocket): then the engine may lend its buffers to the write and reuse
 * them after the callback. An in-process Duplex may keep a reference instead (and calls back at
 * once), so it gets copies. HTTP downloads and WebSocket downloads both ask it.
 */
export function copiesOnWrite(socket: unknown): boolean {
  return socket instanceof Socket;
}
