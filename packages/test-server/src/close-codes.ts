/**
 * The WebSocket CLOSE frames QuestDB's QWP ingress sends: the codes and
 * reasons of the closes it starts, and the code it answers a client's
 * CLOSE with (QwpIngressUpgradeProcessor.handleClose, RFC 6455 section 7.4).
 */

/** A text message: QWP is binary-only. */
export const CLOSE_UNSUPPORTED_DATA = 1003;
export const TEXT_FRAME_REASON = 'text frames are not supported, QWP requires binary frames';
/** A fragmented message (FIN clear, or CONTINUATION). */
export const CLOSE_PROTOCOL_ERROR = 1002;
export const FRAGMENTED_REASON = 'fragmented WebSocket frames are not supported';
/** A frame larger than the server's receive buffer. */
export const CLOSE_MESSAGE_TOO_BIG = 1009;
export const TOO_BIG_REASON = 'frame payload exceeds maximum size';
/** A demoted primary's reconnect-eligible close. */
export const CLOSE_NORMAL = 1000;
/**
 * Its reason: QuestDB's CairoException.READ_ONLY_ACCESS_MESSAGE, also the
 * message of a read-only node's SECURITY_ERROR.
 */
export const READ_ONLY_MESSAGE = 'replica access is read-only';

/**
 * The code QuestDB answers a client CLOSE carrying `code` with (always
 * without a reason): 1004 and the extension range 2000-2999 become 1002;
 * no code (-1), codes outside 1000-4999 and 1005, 1006, 1015 (never valid
 * on the wire) become 1000; any other code is echoed, 1016-1999 and
 * 3000-4999 included.
 */
export function closeResponseCode(code: number): number {
  if (code === 1004 || (code >= 2000 && code <= 2999)) return CLOSE_PROTOCOL_ERROR;
  if (code < 1000 || code > 4999 || code === 1005 || code === 1006 || code === 1015) {
    return CLOSE_NORMAL;
  }
  return code;
}
