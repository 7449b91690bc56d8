/** Parses --endpoint: `unix:///abs/path.sock`, `unix:/abs/path.sock` or `tcp://host:port`. */
export type Endpoint = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

export function parseEndpoint(raw: string): Endpoint {
  const unix = /^unix:(?:\/\/)?(\/.+)$/.exec(raw);
  if (unix?.[1]) return { kind: 'unix', path: unix[1] };
  const tcp = /^tcp:\/\/(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]*):(\d{1,5})$/.exec(raw);
  if (tcp && tcp[2] !== undefined) {
    const port = Number(tcp[2]);
    if (port <= 65535) return { kind: 'tcp', host: tcp[1] || '0.0.0.0', port };
  }
  throw new Error(`invalid endpoint ${JSON.stringify(raw)}: expected unix:///path/to.sock or tcp://host:port`);
}

/** The address string grpc-js binds to. */
export function grpcAddress(e: Endpoint): string {
  return e.kind === 'unix' ? `unix:${e.path}` : `${e.host}:${e.port}`;
}
