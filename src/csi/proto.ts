// The CSI services (spec v1.12.0, proto/csi.proto) for grpc-js, typed with
// the types generated into src/generated/ by `npm run gen:proto`, built from
// the descriptor that script also writes (src/csi/csi-descriptor.ts). The
// conversion options below must match the generator's flags
// (test/proto-generated.test.ts checks both).
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs/light.js';
import type { ProtoGrpcType } from '../generated/csi.js';
import { CSI_DESCRIPTOR } from './csi-descriptor.js';

/** The `csi.v1` namespace: service constructors (with `.service`) and message types. */
export type CsiV1 = ProtoGrpcType['csi']['v1'];

/** Options shared with proto-loader-gen-types (see package.json "gen:proto"). */
export const CSI_LOADER_OPTIONS = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
} as const satisfies protobuf.IConversionOptions & { keepCase: boolean };

let cachedDefinition: PackageDefinition | undefined;
let cachedCsi: CsiV1 | undefined;

/** What grpc-js needs of a package: one service definition per `csi.v1.<Service>` name. */
export type PackageDefinition = Record<string, grpc.ServiceDefinition>;

/**
 * The csi.v1 services, built from the pre-generated descriptor (csi-descriptor.ts) with
 * protobufjs/light: no .proto parsing at start-up, which took about a tenth of a second and
 * 12 MiB. Encoding follows @grpc/proto-loader's exactly — `fromObject` then `encode`; `decode`
 * then `toObject` with CSI_LOADER_OPTIONS — so handlers see the messages the generated types
 * describe.
 */
export function loadCsiPackageDefinition(): PackageDefinition {
  if (cachedDefinition) return cachedDefinition;
  // The descriptor is generated from proto/csi.proto and checked by test/csi-descriptor.test.ts.
  const root = protobuf.Root.fromJSON(CSI_DESCRIPTOR as protobuf.INamespace);
  const v1 = root.lookup('csi.v1');
  if (!(v1 instanceof protobuf.Namespace)) throw new Error('the CSI descriptor has no csi.v1 package');
  const out: PackageDefinition = {};
  for (const s of v1.nestedArray) if (s instanceof protobuf.Service) out[`csi.v1.${s.name}`] = serviceDefinition(s);
  cachedDefinition = out;
  return out;
}

function serviceDefinition(service: protobuf.Service): grpc.ServiceDefinition {
  const def: Record<string, grpc.MethodDefinition<object, object>> = {};
  for (const m of service.methodsArray) {
    m.resolve();
    const req = m.resolvedRequestType;
    const res = m.resolvedResponseType;
    if (!req || !res) throw new Error(`cannot resolve the types of ${service.name}.${m.name}`);
    def[m.name] = {
      path: `/csi.v1.${service.name}/${m.name}`,
      requestStream: !!m.requestStream,
      responseStream: !!m.responseStream,
      requestSerialize: serializer(req),
      requestDeserialize: deserializer(req),
      responseSerialize: serializer(res),
      responseDeserialize: deserializer(res),
      originalName: m.name.charAt(0).toLowerCase() + m.name.slice(1),
    };
  }
  return def;
}

function serializer(type: protobuf.Type): (o: object) => Buffer {
  return (o) => {
    if (Array.isArray(o)) throw new Error(`${type.name}: cannot serialize an array`);
    return Buffer.from(type.encode(type.fromObject(o)).finish());
  };
}

function deserializer(type: protobuf.Type): (b: Buffer) => object {
  return (b) => type.toObject(type.decode(b), CSI_LOADER_OPTIONS);
}

/**
 * The typed `csi.v1` package: e.g. `loadCsi().Identity.service` for
 * `server.addService`, `new (loadCsi().Node)(addr, creds)` for a client.
 * Only the services exist at runtime; message types are types only.
 */
export function loadCsi(): CsiV1 {
  if (!cachedCsi) {
    const root = grpc.loadPackageDefinition(loadCsiPackageDefinition()) as unknown as ProtoGrpcType;
    cachedCsi = root.csi.v1;
  }
  return cachedCsi;
}
