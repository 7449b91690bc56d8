import { describe, expect, it } from 'vitest';
import { findMount, isReadOnlyMount, parseMountInfo, parseMountInfoLine, unescapeMountPath } from './mountinfo.js';

const SAMPLE = [
  '22 1 253:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw,errors=remount-ro',
  '98 22 7:4 / /var/lib/kubelet/plugins/kubernetes.io/csi/cinder.metal.csi.kungze.io/abc/globalmount rw,relatime shared:50 - ext4 /dev/loop4 rw',
  '99 22 7:4 / /var/lib/kubelet/pods/p\\0401/volumes/kubernetes.io~csi/pvc-1/mount ro,relatime shared:50 master:7 - ext4 /dev/loop4 rw',
  '100 22 0:45 /sub\\011dir /mnt/with\\134backslash rw,nosuid - tmpfs tmpfs rw,size=1024k',
  '101 22 7:5 / /mnt/stacked rw - xfs /dev/loop5 rw,attr2,inode64',
  '102 101 7:6 / /mnt/stacked ro - xfs /dev/loop6 ro,nouuid',
  'garbage line',
].join('\n');

describe('mountinfo', () => {
  it('parses fields, optional fields and octal escapes', () => {
    const mounts = parseMountInfo(SAMPLE);
    expect(mounts).toHaveLength(6);
    const pod = mounts[2];
    expect(pod).toMatchObject({
      mountId: 99,
      parentId: 22,
      major: 7,
      minor: 4,
      root: '/',
      mountPoint: '/var/lib/kubelet/pods/p 1/volumes/kubernetes.io~csi/pvc-1/mount',
      optionalFields: ['shared:50', 'master:7'],
      fsType: 'ext4',
      source: '/dev/loop4',
    });
    expect(pod && isReadOnlyMount(pod)).toBe(true);
    expect(mounts[3]).toMatchObject({ root: '/sub\tdir', mountPoint: '/mnt/with\\backslash', superOptions: ['rw', 'size=1024k'], optionalFields: [] });
    expect(mounts[1] && isReadOnlyMount(mounts[1])).toBe(false);
  });

  it('finds the topmost of stacked mounts', () => {
    const m = findMount(parseMountInfo(SAMPLE), '/mnt/stacked');
    expect(m?.source).toBe('/dev/loop6');
    expect(findMount(parseMountInfo(SAMPLE), '/mnt')).toBeUndefined();
  });

  it('rejects lines without the separator', () => {
    expect(parseMountInfoLine('1 2 3:4 / /x rw shared:1 ext4 /dev/x rw')).toBeUndefined();
    expect(unescapeMountPath('a\\040b\\012c')).toBe('a b\nc');
  });
});
