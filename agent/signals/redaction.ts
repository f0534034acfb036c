// Secrets never leave the agent. Header values are never kept by the engine in the first place
// (the span builder only emits an allow-list of headers); what remains is the URL, wherever a part
// of it lands: url.full, url.path, url.query, http.route, the span name, the http_route label and
// server.address. Two layers:
// - the semantic conventions, to the letter: userinfo in url.full becomes `REDACTED:REDACTED`; the
//   values of the default sensitive query keys (case-sensitive: AWSAccessKeyId, Signature, sig,
//   X-Amz-Signature, X-Amz-Credential, X-Amz-Security-Token, X-Goog-Signature) become `REDACTED`,
//   keys kept;
// - our stricter rules on top: any query or path-parameter key with a secret-looking word (token,
//   password, key, session, sid, jsessionid, code, …; in any case, camelCase or percent-encoded) is
//   redacted, as is a value that carries a URL with credentials or a nested secret, and userinfo
//   anywhere in a path (`//user:pw@host/…`, `/proxy/http://user:pw@host`).
export const REDACTED = 'REDACTED';
const USERINFO = `${REDACTED}:${REDACTED}`;

/** The semantic conventions' default sensitive query keys (matched case-sensitively, as they say). */
export const SEMCONV_SENSITIVE_QUERY_KEYS: ReadonlySet<string> = new Set([
  'AWSAccessKeyId', 'Signature', 'sig', 'X-Amz-Signature', 'X-Amz-Credential', 'X-Amz-Security-Token', 'X-Goog-Signature',
]);

const SECRET_WORDS = new Set([
  'token', 'secret', 'password', 'passwd', 'pwd', 'auth', 'authorization', 'signature', 'sig', 'session', 'sessionid',
  'sessid', 'jsessionid', 'phpsessid', 'aspsessionid', 'sid', 'jwt', 'code', 'credential', 'credentials', 'key', 'apikey',
]);

/** `%xx` and `+` decoded; the raw text when it is not valid percent-encoding. */
function decode(s: string): string {
  if (s.indexOf('%') < 0 && s.indexOf('+') < 0) return s;
  try { return decodeURIComponent(s.replace(/\+/g, ' ')); } catch { return s; }
}

/** Does any word of the key (split at punctuation and camelCase) look secret? */
function hasSecretWord(key: string): boolean {
  const words = key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase().split(/[^a-z0-9]+/);
  return words.some((w) => SECRET_WORDS.has(w));
}

export function isSecretQueryKey(key: string): boolean {
  if (SEMCONV_SENSITIVE_QUERY_KEYS.has(key)) return true;
  const k = decode(key);
  return SEMCONV_SENSITIVE_QUERY_KEYS.has(k) || hasSecretWord(k);
}

/** `scheme://user@…` or `//user@…` anywhere in the text. */
const URL_USERINFO = /((?:^|[a-z][a-z0-9+.-]*:)\/\/)[^/?#@\s]*@/gi;

/** A query value that hides a secret: a URL with credentials, or a nested query with a secret key. */
function secretInValue(value: string, depth: number): boolean {
  const v = decode(value);
  URL_USERINFO.lastIndex = 0;
  if (URL_USERINFO.test(v)) return true;
  if (depth >= 3 || v.indexOf('=') < 0) return false;
  const q = v.indexOf('?');
  const inner = q >= 0 ? v.slice(q + 1) : v;
  return redactQueryAt(inner, depth + 1) !== inner;
}

function redactQueryAt(query: string, depth: number): string {
  if (query === '') return query;
  let changed = false;
  const parts = query.split('&').map((pair) => {
    const eq = pair.indexOf('=');
    if (eq < 0) {
      // No '=': an encoded pair (`token%3Dabc`) or a bare URL can still hide one.
      if (pair.indexOf('%') >= 0 && secretInValue(pair, depth)) { changed = true; return REDACTED; }
      return pair;
    }
    const key = pair.slice(0, eq);
    if (isSecretQueryKey(key) || secretInValue(pair.slice(eq + 1), depth)) {
      changed = true;
      return `${key}=${REDACTED}`;
    }
    return pair;
  });
  return changed ? parts.join('&') : query;
}

/** Redacts the values of sensitive keys in a raw query string (no leading '?'). */
export function redactQuery(query: string): string {
  return redactQueryAt(query, 0);
}

/** Path parameters (`;k=v`) of one segment with secret-looking keys redacted. */
function redactSegmentParams(seg: string): string {
  const parts = seg.split(';');
  for (let i = 1; i < parts.length; i++) {
    const eq = parts[i]!.indexOf('=');
    const key = eq < 0 ? parts[i]! : parts[i]!.slice(0, eq);
    if (isSecretQueryKey(key) || (eq >= 0 && secretInValue(parts[i]!.slice(eq + 1), 0))) parts[i] = `${key}=${REDACTED}`;
  }
  return parts.join(';');
}

const PATH_NEEDS_WORK = /[;@%]/;

/** A raw path (no query) with userinfo, secret path parameters and encoded credentials redacted. */
export function redactPath(path: string): string {
  if (!PATH_NEEDS_WORK.test(path)) return path;
  URL_USERINFO.lastIndex = 0;
  const p = path.replace(URL_USERINFO, `$1${USERINFO}@`);
  return p.split('/').map((seg) => {
    if (seg.indexOf('%') >= 0) {
      URL_USERINFO.lastIndex = 0;
      if (URL_USERINFO.test(decode(seg))) return REDACTED; // an encoded URL with credentials
    }
    return seg.indexOf(';') >= 0 ? redactSegmentParams(seg) : seg;
  }).join('/');
}

/** Builds url.full for a client span: scheme://host[:port]path?query, redacted. */
export function buildFullUrl(scheme: string, host: string, target: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) return redactUrl(target); // absolute-form (proxies)
  return redactUrl(`${scheme}://${host}${target.startsWith('/') ? target : `/${target}`}`);
}

/** An absolute URL redacted as url.full must be: userinfo → REDACTED:REDACTED, path and query
 *  (and a fragment, which can carry tokens too) as above. */
export function redactUrl(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/is.exec(url);
  if (!m) return redactRelative(url);
  const at = m[2]!.lastIndexOf('@');
  const authority = at < 0 ? m[2]! : `${USERINFO}@${m[2]!.slice(at + 1)}`;
  return `${m[1]}${authority}${redactRelative(m[3]!)}`;
}

function redactRelative(rest: string): string {
  const hash = rest.indexOf('#');
  const beforeHash = hash < 0 ? rest : rest.slice(0, hash);
  const fragment = hash < 0 ? '' : `#${redactQuery(rest.slice(hash + 1))}`;
  const q = beforeHash.indexOf('?');
  if (q < 0) return `${redactPath(beforeHash)}${fragment}`;
  return `${redactPath(beforeHash.slice(0, q))}?${redactQuery(beforeHash.slice(q + 1))}${fragment}`;
}

/** A Host / :authority value without userinfo (RFC 9110 forbids it there; it is never a host name). */
export function stripHostUserinfo(host: string): string {
  const at = host.lastIndexOf('@');
  return at < 0 ? host : host.slice(at + 1);
}
