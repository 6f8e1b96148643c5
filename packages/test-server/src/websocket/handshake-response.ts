import { createHash } from 'node:crypto';
import { WEBSOCKET_GUID } from './constants.js';

/** Sec-WebSocket-Accept for `key`: base64(SHA-1(key + GUID)), over the key's bytes as sent. */
export function acceptKey(key: string): string {
  return createHash('sha1')
    .update(key + WEBSOCKET_GUID, 'latin1')
    .digest('base64');
}

/**
 * The 101 response, laid out as QuestDB's QwpIngressHttpProcessor.writeResponse
 * writes it: status line, Upgrade, Connection, Sec-WebSocket-Accept, then
 * `headers` (complete "Name: value" lines) in the order given.
 */
export function switchingProtocols(key: string, headers: readonly string[]): string {
  let out = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n`;
  for (const line of headers) out += `${line}\r\n`;
  return `${out}\r\n`;
}
