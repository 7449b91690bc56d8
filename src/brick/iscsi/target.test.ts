import { describe, expect, it } from 'vitest';
import { findSession, normalizePortal, parseSendTargets, parseTargetDir, validateIqn } from './target.js';
import { KeyedMutex } from '../../util/keyed-mutex.js';

const IQN = 'iqn.2010-10.org.openstack:volume-5b0c';

describe('iscsiadm output parsing', () => {
  it('finds a session by target and portal (IPv6 case and brackets, port default)', () => {
    const s = [
      { transport: 'tcp', sid: 1, portal: '192.168.121.250:3260', tpgt: 1, iqn: IQN },
      { transport: 'tcp', sid: 12, portal: '[fd00::10]:3260', tpgt: 2, iqn: 'iqn.2003-01.org.linux-iscsi.h:sn.1' },
    ];
    expect(findSession(s, { portal: '[FD00::10]', iqn: 'iqn.2003-01.org.linux-iscsi.h:sn.1' })?.sid).toBe(12);
    expect(findSession(s, { portal: '192.168.121.250', iqn: IQN })?.sid).toBe(1);
    expect(findSession(s, { portal: '192.168.121.250:3261', iqn: IQN })).toBeUndefined();
  });

  it('parses sendtargets output', () => {
    expect(parseSendTargets(`10.0.0.1:3260,1 ${IQN}\n[fd00::1]:3260,1 ${IQN}\niscsiadm: x\n`)).toEqual([
      { portal: '10.0.0.1:3260', tpgt: 1, iqn: IQN },
      { portal: '[fd00::1]:3260', tpgt: 1, iqn: IQN },
    ]);
  });

  it('portals, names, LUN formatting and by-path links', () => {
    expect(normalizePortal('10.0.0.1')).toBe('10.0.0.1:3260');
    expect(normalizePortal('[FD00::1]:3261')).toBe('[fd00::1]:3261');
    expect(() => normalizePortal('10.0.0.1:99999')).toThrow();
    expect(() => normalizePortal('-o x')).toThrow();
    expect(() => validateIqn('-T')).toThrow();
    expect(validateIqn('naa.60014055f5c3b4e7')).toBe('naa.60014055f5c3b4e7');
    expect(parseTargetDir('target3:0:1')).toEqual({ host: 3, channel: 0, target: 1 });
    expect(parseTargetDir('power')).toBeUndefined();
  });
});

describe('KeyedMutex', () => {
  it('serializes per key, lets other keys run, and takes several keys without deadlock', async () => {
    const m = new KeyedMutex();
    const order: string[] = [];
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    await Promise.all([
      m.run('a', async () => {
        order.push('a1+');
        await sleep(30);
        order.push('a1-');
      }),
      m.run('a', async () => {
        order.push('a2+');
        order.push('a2-');
      }),
      m.run('b', async () => {
        order.push('b+');
        order.push('b-');
      }),
      m.runAll(['b', 'a'], async () => order.push('ab')),
      m.runAll(['a', 'b'], async () => order.push('ba')),
    ]);
    expect(order.indexOf('a2+')).toBeGreaterThan(order.indexOf('a1-'));
    expect(order.indexOf('b+')).toBeLessThan(order.indexOf('a1-'));
    expect(order).toContain('ab');
    expect(order).toContain('ba');
    expect(m.size).toBe(0);
    await expect(m.run('a', async () => Promise.reject(new Error('x')))).rejects.toThrow('x');
    expect(await m.run('a', async () => 5)).toBe(5);
  });
});
