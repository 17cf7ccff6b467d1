// Calls to the endpoint's /api routes: the bearer token from sessionStorage, JSON both ways, and
// the endpoint's {"error": ...} turned into an ApiError whose message can be shown as it is.

const TOKEN_KEY = 'workgate.token';

export class ApiError extends Error {
  constructor(status, message, parameter) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.parameter = parameter || null;
  }
}

export function token() {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(value) {
  sessionStorage.setItem(TOKEN_KEY, value);
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

const unauthorizedListeners = new Set();

/** Calls fn(error) whenever any call is answered 401. */
export function onUnauthorized(fn) {
  unauthorizedListeners.add(fn);
}

/**
 * Builds a query string from an object; arrays give repeated parameters, empty values are left
 * out. Returns '' or '?a=b&…'.
 */
export function query(params) {
  const q = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v !== undefined && v !== null && v !== '') {
        q.append(name, String(v));
      }
    }
  }
  const s = q.toString();
  return s ? '?' + s : '';
}

/**
 * One call. Resolves with the parsed JSON body (null when empty) for 2xx and for any status in
 * options.accept; rejects with ApiError otherwise.
 */
export async function api(path, options = {}) {
  const { method = 'GET', body, accept = [] } = options;
  const headers = { Accept: 'application/json' };
  const t = token();
  if (t) {
    headers.Authorization = 'Bearer ' + t;
  }
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
  }
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
      redirect: 'error',
    });
  } catch (e) {
    throw new ApiError(0, 'the endpoint did not answer (' + e.message + ')');
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (response.ok || accept.includes(response.status)) {
    return data;
  }
  const message =
    data && typeof data.error === 'string'
      ? data.error
      : 'HTTP ' + response.status + ' ' + response.statusText;
  const error = new ApiError(response.status, message, data && data.parameter);
  if (response.status === 401) {
    for (const fn of unauthorizedListeners) {
      fn(error);
    }
  }
  throw error;
}
