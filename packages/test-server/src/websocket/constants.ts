/**
 * RFC 6455 numbers as QuestDB's QWP ingress applies them
 * (cutlass/qwp/websocket/WebSocketOpcode, WebSocketFrameParser, WebSocketFrameWriter).
 */

export const OPCODE_CONTINUATION = 0x0;
export const OPCODE_TEXT = 0x1;
export const OPCODE_BINARY = 0x2;
export const OPCODE_CLOSE = 0x8;
export const OPCODE_PING = 0x9;
export const OPCODE_PONG = 0xa;

/** The six opcodes RFC 6455 defines; QuestDB's parser refuses every other one (0x3-0x7, 0xB-0xF). */
export function isKnownOpcode(opcode: number): boolean {
  return opcode <= OPCODE_BINARY || (opcode >= OPCODE_CLOSE && opcode <= OPCODE_PONG);
}

/** CLOSE, PING and PONG (bit 3 of the opcode set). */
export function isControlOpcode(opcode: number): boolean {
  return (opcode & 0x08) !== 0;
}

/** Bytes a client frame header takes at most (2 + 8-byte length + 4-byte mask), as QuestDB reserves them. */
export const MAX_FRAME_HEADER_BYTES = 14;
/** A control frame's payload limit. */
export const MAX_CONTROL_PAYLOAD = 125;
/** A CLOSE reason's limit: the control payload less the 2-byte status code. */
export const MAX_CLOSE_REASON_BYTES = 123;
/** Appended to Sec-WebSocket-Key before hashing it into Sec-WebSocket-Accept. */
export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
