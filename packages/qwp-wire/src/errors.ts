/**
 * Every error @qwp/qwp-wire throws on purpose is a QwpError with a stable
 * `code`, a message that names the input at fault, and the cause attached.
 */
export class QwpError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}
