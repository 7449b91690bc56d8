import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCloudConfig } from '../../src/config/cloud-config.js';
import { containers, DEPLOY_DIR, EXAMPLES_DIR, REPO_ROOT, topLevel, yamlFiles } from './manifests.js';

/** The user guide stays true to the code and the manifests it describes. */
const guide = readFileSync(join(REPO_ROOT, 'docs', 'user-guide.md'), 'utf8');

/** The cloud.conf keys the parser knows, read from its source (its key tables are not exported). */
function cloudConfKeys(): string[] {
  const src = readFileSync(join(REPO_ROOT, 'src', 'config', 'cloud-config.ts'), 'utf8');
  const globalBlock = /const GLOBAL_KEYS[^{]*\{([\s\S]*?)\n\};/.exec(src)?.[1] ?? '';
  const storageBlock = /const BLOCK_STORAGE_KEYS = new Set\(\[([\s\S]*?)\]\)/.exec(src)?.[1] ?? '';
  const keys = [...globalBlock.matchAll(/^\s*'?([a-z][a-z-]*)'?\s*:/gm), ...storageBlock.matchAll(/'([a-z][a-z-]*)'/g)].map((m) => m[1] ?? '');
  return [...new Set(keys)];
}

describe('user guide', () => {
  it('documents every cloud.conf key the parser accepts', () => {
    const keys = cloudConfKeys();
    expect(keys.length).toBeGreaterThanOrEqual(20);
    for (const k of keys) expect(guide, k).toContain(`\`${k}\``);
  });

  it('its cloud.conf examples are accepted by the controller', () => {
    const blocks = [...guide.matchAll(/```ini\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    const strategies = blocks.map((text, i) => parseCloudConfig(text, `user-guide example ${i + 1}`, { role: 'controller' }).blockStorage.authStrategy);
    expect(new Set(strategies)).toEqual(new Set(['keystone', 'noauth']));
  });

  it('names every file `kubectl apply -f deploy/` applies, and every image tag', () => {
    for (const f of yamlFiles(DEPLOY_DIR)) expect(guide, f).toContain(`\`${f}\``);
    for (const d of topLevel()) {
      if (!['Deployment', 'DaemonSet'].includes(d.obj.kind)) continue;
      for (const c of containers(d.obj)) {
        const m = /\/([a-z-]+):(v[\d.]+)$/.exec(c.image);
        expect(m, c.image).not.toBeNull();
        if (m?.[1] === 'cinder-metal-csi') expect(guide).toContain(c.image);
        else expect(guide, c.image).toContain(`${m?.[1]} ${m?.[2]}`);
      }
    }
  });

  it('the examples README lists every example', () => {
    const readme = readFileSync(join(EXAMPLES_DIR, 'README.md'), 'utf8');
    for (const f of yamlFiles(EXAMPLES_DIR)) expect(readme, f).toContain(`\`${f}\``);
  });
});
