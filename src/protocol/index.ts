// The WebSocket protocol shared by the gateway and the client SDK (docs/protocol.md).
// Runs in browsers too: nothing here (or below) may import node:* modules.
export * from './errors.js';
export * from './frames.js';
export * from './messages.js';
