import { silentLogger, type Logger } from '../log/logger.js';
import type { Exec } from '../host/exec.js';
import type { HostFs } from '../host/host-fs.js';
import type { ConnectionData } from './connection-data.js';
import type { Connector, Connectors } from './connector.js';
import { IscsiConnector, type IscsiConnectorOptions } from './iscsi/connector.js';
import { KeyedMutex } from '../util/keyed-mutex.js';
import { LocalConnector } from './local.js';
import { RbdConnector, type RbdConnectorOptions } from './rbd/connector.js';

export interface ConnectorDeps {
  exec: Exec;
  fs: HostFs;
  log?: Logger;
  locks?: KeyedMutex;
  iscsi?: Omit<IscsiConnectorOptions, 'exec' | 'fs' | 'log' | 'locks'>;
  rbd?: Omit<RbdConnectorOptions, 'exec' | 'fs' | 'log'>;
}

/** Build the three connectors once (they share the iSCSI per-target locks). */
export function createConnectors(deps: ConnectorDeps): Connectors {
  const base = { exec: deps.exec, fs: deps.fs, ...(deps.log ? { log: deps.log } : {}) };
  return {
    iscsi: new IscsiConnector({ ...base, log: deps.log ?? silentLogger(), locks: deps.locks ?? new KeyedMutex(), ...deps.iscsi }),
    rbd: new RbdConnector({ ...base, ...deps.rbd }),
    local: new LocalConnector(base),
  };
}

/** The connector for this connection's transport. */
export function connectorFor(conn: ConnectionData, connectors: Connectors): Connector {
  switch (conn.type) {
    case 'iscsi':
      return connectors.iscsi;
    case 'rbd':
      return connectors.rbd;
    case 'local':
      return connectors.local;
  }
}
