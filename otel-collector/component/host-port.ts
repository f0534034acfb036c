// "host:port" (host may be empty or bracketed IPv6) → listen/dial arguments.
export function splitHostPort(ep: string): { host: string; port: number } {
  const i = ep.lastIndexOf(':');
  let host = ep.slice(0, i);
  if (host.startsWith('[')) host = host.slice(1, -1);
  return { host: host || '0.0.0.0', port: Number(ep.slice(i + 1)) };
}
