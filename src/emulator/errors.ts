/**
 * The Anthropic API error envelope, as the SDK reads it (`core/error.js`, `client.js#makeStatusError`):
 *
 * ```json
 * {"type":"error","error":{"type":"invalid_request_error","message":"…","details":{"error_code":"…"}},"request_id":"req_…"}
 * ```
 *
 * The SDK picks its error class from the HTTP status (`BadRequestError`, `NotFoundError`, …) and, when
 * `error.details.error_code` is set, from `"<status> <error_code>"` in `core/error-classes.js` (for example
 * `400 invalid_config_type_change` → `BetaInvalidConfigTypeChangeError`).
 *
 * Messages never echo request values other than enum tags and ids, so a secret sent in a body can never come back
 * in an error (see `credentials.ts`).
 */

/** The `error.type` values this emulator produces (API-NOTES "Errors"). */
export type ApiErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "not_found_error"
  | "conflict_error"
  | "request_too_large"
  | "rate_limit_error"
  | "api_error";

/** The JSON body of an error response. */
export interface ErrorEnvelope {
  type: "error";
  error: { type: ApiErrorType; message: string; details?: { error_code: string } };
  request_id: string;
}

/**
 * An error that becomes an HTTP response in the error envelope. Throw it from anywhere inside a request; the
 * server's single error handler turns it into `status` + envelope (+ `headers`, e.g. `retry-after`).
 */
export class ApiError extends Error {
  /**
   * @param status HTTP status code.
   * @param type `error.type` of the envelope.
   * @param message `error.message`; for validation errors it starts with the dotted field path (`tools.1.name: …`).
   * @param errorCode optional `error.details.error_code` (e.g. `invalid_metadata`).
   * @param headers extra response headers (e.g. `retry-after` on 429).
   */
  constructor(
    readonly status: number,
    readonly type: ApiErrorType,
    message: string,
    readonly errorCode?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** 400 `invalid_request_error`, optionally with `details.error_code`. */
export function badRequest(message: string, errorCode?: string): ApiError {
  return new ApiError(400, "invalid_request_error", message, errorCode);
}

/** 404 `not_found_error`, optionally with `details.error_code` (e.g. `environment_not_found`). */
export function notFound(message: string, errorCode?: string): ApiError {
  return new ApiError(404, "not_found_error", message, errorCode);
}

/** 409 `conflict_error` (stale `version` precondition, duplicate credential). */
export function conflict(message: string): ApiError {
  return new ApiError(409, "conflict_error", message);
}

/** Builds the envelope for `err`, tagged with the request's id (also sent as the `request-id` header). */
export function errorEnvelope(err: ApiError, requestId: string): ErrorEnvelope {
  const error: ErrorEnvelope["error"] = { type: err.type, message: err.message };
  if (err.errorCode) error.details = { error_code: err.errorCode };
  return { type: "error", error, request_id: requestId };
}

/** The `error.type` the API uses for a bare HTTP status (used for framework errors such as 413 or 415). */
export function errorTypeForStatus(status: number): ApiErrorType {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 409) return "conflict_error";
  if (status === 413) return "request_too_large";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return "api_error";
  return "invalid_request_error";
}
