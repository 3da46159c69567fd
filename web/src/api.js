// api.js - the one way the page talks to the coordinator: fetch() on the
// same origin, JSON in and out, and the bearer token of API_TOKEN.
//
// The token is asked for once, on the first 401, and kept in sessionStorage
// (this tab only, gone when it closes). Requests that meet a 401 while the
// question is open wait for the same answer; a token that is refused is
// forgotten and asked for again.

const TOKEN_KEY = 'wf-api-token';

let askToken = null; // set by the page: (refused) => Promise<string|null>
let pendingAsk = null;
let memoryToken = null; // when sessionStorage is disabled

export function setTokenPrompt(fn) {
  askToken = fn;
}

export function storedToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

function storeToken(token) {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    /* storage disabled: the token lives as long as the page */
  }
  memoryToken = token || null;
}

function currentToken() {
  return storedToken() || memoryToken;
}

async function tokenAfter401(refused) {
  if (!askToken) return null;
  if (!pendingAsk) {
    pendingAsk = askToken(refused).finally(() => {
      pendingAsk = null;
    });
  }
  const token = await pendingAsk;
  if (token) storeToken(token);
  return token;
}

/** An answer that is not 2xx: status, the server's message, and its JSON body. */
export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

/**
 * Sends method path with body (an object, sent as JSON; undefined for none)
 * and resolves to the parsed JSON answer (null for an empty one). A non-2xx
 * answer rejects with an ApiError.
 */
export async function api(method, path, body) {
  for (let attempt = 0; ; attempt++) {
    const headers = { Accept: 'application/json' };
    const token = currentToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res;
    try {
      res = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
      });
    } catch (err) {
      throw new ApiError(0, `the coordinator did not answer (${err.message})`, null);
    }
    const text = await res.text();
    let json = null;
    if (text) {
      try {
        json = JSON.parse(text);
      } catch {
        json = null;
      }
    }
    if (res.status === 401 && attempt < 3) {
      if (token) storeToken(null);
      const given = await tokenAfter401(Boolean(token));
      if (given) continue;
    }
    if (!res.ok) {
      const message = (json && json.error) || `${res.status} ${res.statusText}`;
      throw new ApiError(res.status, message, json);
    }
    return json;
  }
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body === undefined ? {} : body);
export const put = (path, body) => api('PUT', path, body);
export const del = (path) => api('DELETE', path);

/** A path segment, percent-encoded. */
export const seg = (s) => encodeURIComponent(String(s));
