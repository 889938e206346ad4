/**
 * Errors a user can cause (bad config, bad input, an unreachable dependency they configured) carry
 * a stable code and a message meant for them. Anything else is a bug and is thrown as is.
 */
export class UserError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UserError';
    this.code = code;
  }
}

export function isUserError(error: unknown): error is UserError {
  return error instanceof UserError;
}
