import type { ErrorCode } from './error-codes';

export { ERROR_CODES, type ErrorCode } from './error-codes';

/**
 * Every error nacbridge throws on purpose is a NacbridgeError: a stable machine-readable `code`
 * plus the context that locates the problem (field number, byte offset, line, device...).
 * Messages never carry key material, PINs or full PANs.
 */
export interface ErrorContext {
  /** ISO 8583 field number the problem is in. */
  field?: number;
  /** Byte offset into the buffer being decoded (from the start of what the decoder was given). */
  offset?: number;
  [key: string]: string | number | boolean | undefined;
}

export class NacbridgeError extends Error {
  readonly code: ErrorCode;
  readonly context: ErrorContext;

  /** `cause`: the error this one explains (kept, never printed in full: it may be a system error). */
  constructor(code: ErrorCode, message: string, context: ErrorContext = {}, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.context = context;
  }

  /** One line for people: message, then the located context. */
  describe(): string {
    const where = Object.entries(this.context)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    return where ? `${this.code}: ${this.message} (${where})` : `${this.code}: ${this.message}`;
  }
}

/** Malformed bytes or values met by a codec (src/codec, src/iso8583). */
export class CodecError extends NacbridgeError {}

/** A cryptographic check failed or a key / input has the wrong shape. Never carries key material. */
export class CryptoError extends NacbridgeError {}
