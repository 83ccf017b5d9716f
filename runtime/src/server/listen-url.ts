/**
 * The URL to reach a server listening on `host`:`port`. A wildcard address (0.0.0.0, ::) accepts
 * connections but is not one to connect to: clients, and the URLs printed for people, use loopback.
 */
export function listenUrl(host: string, port: number): string {
  const reachable = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
  return `http://${reachable.includes(":") ? `[${reachable}]` : reachable}:${port}`;
}
