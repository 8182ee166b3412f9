// The API of the node that served this page, called with the user's bearer token. The token is
// asked for once and kept in sessionStorage: it lasts as long as the browser tab.

const TOKEN_KEY = 'grit-token';

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  if (value) {
    sessionStorage.setItem(TOKEN_KEY, value.trim());
  } else {
    sessionStorage.removeItem(TOKEN_KEY);
  }
}

/** An API answer other than 2xx: its status and the {"error", "detail"} body. */
export class ApiError extends Error {
  constructor(status, error, detail) {
    super(detail ? `${error}: ${typeof detail === 'string' ? detail : JSON.stringify(detail)}` : error);
    this.status = status;
  }
}

function headers(extra = {}) {
  const t = token();
  return t ? { ...extra, Authorization: `Bearer ${t}` } : extra;
}

async function failure(response) {
  let error = `${response.status} ${response.statusText}`;
  let detail = null;
  try {
    const body = await response.json();
    error = body.error || error;
    detail = body.detail;
  } catch (e) {
    // not JSON: the status says it
  }
  return new ApiError(response.status, error, detail);
}

async function call(method, path, accept) {
  const response = await fetch(path, { method, headers: headers({ Accept: accept }) });
  if (!response.ok) {
    throw await failure(response);
  }
  return response;
}

export async function getJson(path) {
  return (await call('GET', path, 'application/json')).json();
}

export async function getText(path) {
  return (await call('GET', path, 'text/plain')).text();
}

export async function post(path) {
  return (await call('POST', path, 'application/json')).json();
}

/**
 * Part of an attempt's output from a byte offset: its bytes, the offset to read from next,
 * whether more may come and whether bytes were lost on the way (see the API's Grit-Log-* headers).
 */
export async function getLogPart(path) {
  const response = await call('GET', path, 'text/plain');
  return {
    bytes: new Uint8Array(await response.arrayBuffer()),
    offset: Number(response.headers.get('Grit-Log-Offset')),
    running: response.headers.get('Grit-Log-Running') === 'true',
    skipped: response.headers.get('Grit-Log-Skipped') === 'true',
  };
}

/** The HTTP status a GET of {@code path} answers, without failing on errors. */
export async function status(path) {
  const response = await fetch(path, { headers: headers() });
  return response.status;
}

/**
 * Saves an object's bytes as {@code name}: fetched with the token (a plain link could not send
 * it), then handed to the browser as a download.
 */
export async function download(hash, name) {
  const response = await call('GET', `/v1/objects/${encodeURIComponent(hash)}`, '*/*');
  const url = URL.createObjectURL(await response.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name.split('/').pop() || hash;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

/**
 * Reads a server-sent event stream ({@code event: Type}, {@code data: {...}}), calling
 * onEvent(type, data) for each event, until the stream ends or signal aborts. EventSource cannot
 * send a bearer token, so the stream is read with fetch.
 */
export async function follow(path, onEvent, signal) {
  const response = await fetch(path, { headers: headers({ Accept: 'text/event-stream' }), signal });
  if (!response.ok) {
    throw await failure(response);
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) {
      return;
    }
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let type = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) {
          type = line.slice(6).trim();
        } else if (line.startsWith('data:')) {
          data.push(line.slice(5).trim());
        }
      }
      if (data.length) {
        onEvent(type, JSON.parse(data.join('\n')));
      }
    }
  }
}
