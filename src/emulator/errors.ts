/**
 * Error answers in the exact envelopes the real services use. Handlers throw ApiError; the server
 * turns it into a response. Cinder wraps errors as {"<faultName>": {"code", "message"}}, Keystone
 * as {"error": {"code", "title", "message"}}, and the WSGI router's own 404 has a third shape.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(`HTTP ${status}`);
  }
}

/** cinder.api.openstack.wsgi.Fault._fault_names; anything else is a computeFault. */
const FAULT_NAMES: Record<number, string> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'badMethod',
  409: 'conflictingRequest',
  413: 'overLimit',
  415: 'badMediaType',
  501: 'notImplemented',
  503: 'serviceUnavailable',
};

export const COMPUTE_FAULT_MESSAGE =
  'The server has either erred or is incapable of performing the requested operation.';
export const SERVICE_UNAVAILABLE_MESSAGE = 'The server is currently unavailable. Please try again at a later time.';

export function cinderError(status: number, message: string, headers: Record<string, string> = {}): ApiError {
  const name = FAULT_NAMES[status] ?? 'computeFault';
  return new ApiError(status, { [name]: { code: status, message } }, headers);
}

export const badRequest = (message: string): ApiError => cinderError(400, message);
export const notFound = (message: string): ApiError => cinderError(404, message);
export const forbiddenPolicy = (rule: string): ApiError =>
  cinderError(403, `Policy doesn't allow ${rule} to be performed.`);

/** A Cinder 5xx with the message the fault wrapper uses. */
export function serverError(status = 500): ApiError {
  return cinderError(status, status === 503 ? SERVICE_UNAVAILABLE_MESSAGE : COMPUTE_FAULT_MESSAGE);
}

/** 413/429 with Retry-After; quota errors use retryAfter "0" (architecture §7: 0 = quota, > 0 = rate limit). */
export function overLimit(message: string, retryAfter: number, status = 413): ApiError {
  const ra = String(retryAfter);
  return new ApiError(
    status,
    { overLimit: { code: status, message, retryAfter: ra } },
    { 'Retry-After': ra },
  );
}

/** webob's HTTPNotFound as JSON: what Cinder's router answers for paths it does not know. */
export function routerNotFound(): ApiError {
  return new ApiError(404, {
    message: 'The resource could not be found.<br /><br />\n\n\n',
    code: '404 Not Found',
    title: 'Not Found',
  });
}

export const RESOURCE_NOT_FOUND = 'The resource could not be found.';

export function keystoneError(status: number, title: string, message: string, headers: Record<string, string> = {}): ApiError {
  return new ApiError(status, { error: { code: status, message, title } }, headers);
}

export const UNAUTHORIZED_MESSAGE = 'The request you have made requires authentication.';
