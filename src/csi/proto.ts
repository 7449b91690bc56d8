// Loads proto/csi.proto (CSI spec v1.12.0) with @grpc/proto-loader and
// exposes it typed with the types generated into src/generated/ by
// `npm run gen:proto`. The loader options below must match the flags of
// that script (test/proto-generated.test.ts checks both).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType } from '../generated/csi.js';

/** The `csi.v1` namespace: service constructors (with `.service`) and message types. */
export type CsiV1 = ProtoGrpcType['csi']['v1'];

/** Options shared with proto-loader-gen-types (see package.json "gen:proto"). */
export const CSI_LOADER_OPTIONS = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
} as const satisfies protoLoader.Options;

// The CSI spec's csi.proto of v1.12.0.
const PROTO_RELATIVE = join('proto', 'csi.proto');

/**
 * Absolute path of proto/csi.proto. Walks up from this module, so it works
 * from src/csi (tsx, vitest) and from dist/csi (built package) alike.
 */
export function csiProtoPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, PROTO_RELATIVE);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find ${PROTO_RELATIVE} above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

let cachedDefinition: protoLoader.PackageDefinition | undefined;
let cachedCsi: CsiV1 | undefined;

/** The raw proto-loader package definition (cached). */
export function loadCsiPackageDefinition(): protoLoader.PackageDefinition {
  cachedDefinition ??= protoLoader.loadSync(csiProtoPath(), { ...CSI_LOADER_OPTIONS });
  return cachedDefinition;
}

/**
 * The typed `csi.v1` package: e.g. `loadCsi().Identity.service` for
 * `server.addService`, `new (loadCsi().Node)(addr, creds)` for a client.
 */
export function loadCsi(): CsiV1 {
  if (!cachedCsi) {
    const root = grpc.loadPackageDefinition(loadCsiPackageDefinition()) as unknown as ProtoGrpcType;
    cachedCsi = root.csi.v1;
  }
  return cachedCsi;
}
