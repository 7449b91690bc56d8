import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultRouteIpv4, ipv4Of, parseDefaultRouteInterface, parseInitiatorName, readInitiatorName } from './host-connector.js';

const ROUTE = `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth1\t00000000\t0102A8C0\t0003\t0\t0\t200\t00000000\t0\t0\t0
eth0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0
eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
eth2\t00000000\t01010A0A\t0002\t0\t0\t1\t00000000\t0\t0\t0
`;

const IFACES = {
  lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' }],
  eth0: [
    { address: 'fe80::1', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '52:54:00:00:00:01', internal: false, cidr: 'fe80::1/64', scopeid: 2 },
    { address: '192.0.2.10', netmask: '255.255.255.0', family: 'IPv4', mac: '52:54:00:00:00:01', internal: false, cidr: '192.0.2.10/24' },
  ],
  eth1: [{ address: '192.168.2.5', netmask: '255.255.255.0', family: 'IPv4', mac: '52:54:00:00:00:02', internal: false, cidr: '192.168.2.5/24' }],
} as const;

describe('host connector facts', () => {
  it('parses the initiator name, ignoring comments', () => {
    expect(parseInitiatorName('## generated\n# InitiatorName=iqn.bad\nInitiatorName=iqn.1993-08.org.debian:01:abc123\n')).toBe('iqn.1993-08.org.debian:01:abc123');
    expect(parseInitiatorName('# nothing\n')).toBeUndefined();
  });

  it('default route: lowest metric among up routes', () => {
    expect(parseDefaultRouteInterface(ROUTE)).toBe('eth0');
    expect(parseDefaultRouteInterface(ROUTE.split('\n').slice(0, 1).join('\n'))).toBeUndefined();
    expect(ipv4Of('eth0', IFACES as unknown as NodeJS.Dict<import('node:os').NetworkInterfaceInfo[]>)).toBe('192.0.2.10');
  });

  it('reads the initiator name and the default route from the files it is given and tolerates their absence', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cmc-host-'));
    try {
      await writeFile(join(dir, 'initiatorname.iscsi'), 'InitiatorName=iqn.2004-10.com.ubuntu:01:feedbeef\n');
      await writeFile(join(dir, 'route'), ROUTE);
      const ifaces = IFACES as unknown as NodeJS.Dict<import('node:os').NetworkInterfaceInfo[]>;
      expect(await readInitiatorName(join(dir, 'initiatorname.iscsi'))).toBe('iqn.2004-10.com.ubuntu:01:feedbeef');
      expect(await defaultRouteIpv4({ routePath: join(dir, 'route'), interfaces: ifaces })).toBe('192.0.2.10');
      expect(await readInitiatorName(join(dir, 'missing'))).toBeUndefined();
      expect(await defaultRouteIpv4({ routePath: join(dir, 'missing'), interfaces: ifaces })).toBeUndefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
