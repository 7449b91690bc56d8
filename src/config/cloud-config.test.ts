import { describe, expect, it } from 'vitest';
import { parseCloudConfig, ConfigError } from './cloud-config.js';

const F = '/etc/cloud.conf';
const keystone = `
[Global]
auth-url = https://keystone.example:5000/v3/
username = csi
password = "p;ss#word\\"x"
user-domain-name = Default
project-name = k8s
project-domain-name = Default
region = RegionOne
[BlockStorage]
cluster-id = prod-1
node-volume-attach-limit = 128
ignore-volume-az = yes
`;

describe('cloud.conf loader', () => {
  it('reads a keystone password config, quoting and all', () => {
    const c = parseCloudConfig(keystone, F, { role: 'controller' });
    expect(c.global.authUrl).toBe('https://keystone.example:5000/v3');
    expect(c.global.password).toBe('p;ss#word"x');
    expect(c.blockStorage).toEqual({
      authStrategy: 'keystone',
      clusterId: 'prod-1',
      nodeVolumeAttachLimit: 128,
      ignoreVolumeAz: true,
    });
  });

  it('reads a noauth config and an application credential config', () => {
    const noauth = parseCloudConfig(
      '[BlockStorage]\nauth-strategy = noauth\ncinder-endpoint = http://127.0.0.1:8776/v3/0123456789abcdef0123456789abcdef\n',
      F,
      { role: 'controller' },
    );
    expect(noauth.blockStorage.authStrategy).toBe('noauth');
    expect(noauth.blockStorage.cinderEndpoint).toMatch(/\/v3\/0123/);
    expect(noauth.blockStorage.clusterId).toBe('kubernetes');
    const appcred = parseCloudConfig(
      '[Global]\nauth-url=http://k:5000/v3\napplication-credential-id = abc\napplication-credential-secret = s3\n',
      F,
      { role: 'controller' },
    );
    expect(appcred.global.applicationCredentialId).toBe('abc');
  });

  const bad: Array<[string, string, RegExp]> = [
    ['unknown key', '[Global]\nauth-url=http://k/v3\nfoo = bar\n', /cloud\.conf:3: unknown key "foo" in \[Global\]/],
    ['unknown section', '[Nova]\nx=1\n', /unknown section \[Nova\]/],
    ['missing auth-url', '[Global]\nusername=u\n', /missing required key "\[Global\] auth-url"/],
    ['missing password', '[Global]\nauth-url=http://k/v3\nusername=u\nuser-domain-name=D\nproject-id=p\n', /"\[Global\] password"/],
    ['missing project', '[Global]\nauth-url=http://k/v3\nuser-id=u\npassword=x\n', /"\[Global\] project-name"/],
    ['missing user domain', '[Global]\nauth-url=http://k/v3\nusername=u\npassword=x\nproject-id=p\n', /user-domain-name/],
    ['app cred without secret', '[Global]\nauth-url=http://k/v3\napplication-credential-id=a\n', /application-credential-secret/],
    ['noauth without endpoint', '[BlockStorage]\nauth-strategy=noauth\n', /cinder-endpoint/],
    ['bad strategy', '[BlockStorage]\nauth-strategy=magic\n', /keystone or noauth/],
    ['bad url', '[BlockStorage]\nauth-strategy=noauth\ncinder-endpoint=ftp://x\n', /http or https/],
    ['bad limit', '[BlockStorage]\nauth-strategy=noauth\ncinder-endpoint=http://x/v3/ab\nnode-volume-attach-limit=0\n', /whole number/],
    ['bad bool', '[Global]\ntls-insecure=maybe\n', /true or false/],
    ['duplicate key', '[Global]\nregion=a\nregion=b\n', /appears twice/],
    ['unterminated quote', '[Global]\npassword="abc\n', /unterminated quote/],
    ['key outside section', 'region=a\n', /outside of any section/],
  ];
  it.each(bad)('rejects: %s', (_name, text, re) => {
    expect(() => parseCloudConfig(text, F, { role: 'controller' })).toThrow(ConfigError);
    expect(() => parseCloudConfig(text, F, { role: 'controller' })).toThrow(re);
  });

  it('never prints a secret value in its errors', () => {
    const secret = 'Planted-Secret-9f3a';
    const texts = [
      `[Global]\npassword="${secret}\n`,
      `[Global]\npassword = ${secret}\nbogus = 1\n`,
      `[Global]\napplication-credential-secret=${secret}\nauth-url=http://k/v3\n`,
      `[Global]\npassword="${secret}" trailing\n`,
    ];
    for (const t of texts) {
      let message = '';
      try {
        parseCloudConfig(t, F, { role: 'controller' });
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).not.toBe('');
      expect(message).not.toContain(secret);
    }
  });

  it('refuses credentials in a node plugin config but accepts [BlockStorage] alone', () => {
    expect(() => parseCloudConfig('[Global]\npassword=x\n', F, { role: 'node' })).toThrow(/must not hold cloud credentials/);
    const n = parseCloudConfig('[BlockStorage]\nnode-volume-attach-limit=32\n', F, { role: 'node' });
    expect(n.blockStorage.nodeVolumeAttachLimit).toBe(32);
  });
});
