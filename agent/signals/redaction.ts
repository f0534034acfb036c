// Secrets never leave the agent: URL credentials are removed and the values of query keys that
// look secret are replaced. (Header values are never kept by the engine in the first place; the
// span builder only ever emits an allow-list of headers.)
const SECRET_KEY = /(^|[_.-])(token|access_token|id_token|refresh_token|api[_-]?key|apikey|key|secret|client_secret|password|passwd|pwd|auth|authorization|signature|sig|session|sessionid|jwt|code|credential|credentials|x-amz-signature|x-amz-credential|x-amz-security-token)$/i;
export const REDACTED = 'REDACTED';

export function isSecretQueryKey(key: string): boolean {
  let k = key;
  try { k = decodeURIComponent(key); } catch { /* keep raw */ }
  return SECRET_KEY.test(k);
}

/** Redacts the values of secret-looking keys in a raw query string (no leading '?'). */
export function redactQuery(query: string): string {
  if (query === '') return query;
  let changed = false;
  const parts = query.split('&').map((pair) => {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    if (eq >= 0 && isSecretQueryKey(key)) {
      changed = true;
      return `${key}=${REDACTED}`;
    }
    return pair;
  });
  return changed ? parts.join('&') : query;
}

/** Removes `user:password@` from an absolute URL or authority. */
export function stripUrlCredentials(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@?#]*@/i, '$1');
}

/** Builds url.full for a client span: scheme://host[:port]path?redacted-query, never credentials. */
export function buildFullUrl(scheme: string, host: string, target: string): string {
  let t = target;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(t)) return redactUrl(t); // absolute-form (proxies)
  if (!t.startsWith('/')) t = `/${t}`;
  return redactUrl(`${scheme}://${host}${t}`);
}

export function redactUrl(url: string): string {
  const noCreds = stripUrlCredentials(url);
  const q = noCreds.indexOf('?');
  if (q < 0) return noCreds;
  const hash = noCreds.indexOf('#', q);
  const query = hash < 0 ? noCreds.slice(q + 1) : noCreds.slice(q + 1, hash);
  const tail = hash < 0 ? '' : noCreds.slice(hash);
  return `${noCreds.slice(0, q + 1)}${redactQuery(query)}${tail}`;
}
