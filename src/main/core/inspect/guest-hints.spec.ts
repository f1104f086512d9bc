import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gptDisk, writeGpt } from '../../../../test/support/disk-fixtures';
import { guestHints, hintsFromAdapter, hintsFromName } from './guest-hints';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gu-hints-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('guest hints', () => {
  it('reads UEFI from a GPT with an EFI system partition and the architecture from its root partition type', async () => {
    const path = join(dir, 'disk.raw');
    gptDisk(path, ['c12a7328-f81f-11d2-ba4b-00a0c93ec93b', 'b921b045-1df0-41c3-af44-4c6f280d3fae']);
    utimesSync(path, new Date('2026-11-30T10:00:00Z'), new Date('2026-11-30T10:00:00Z'));
    expect(await guestHints(path, 'raw')).toEqual({
      hw_firmware_type: { value: 'uefi', from: 'a GPT with an EFI system partition' },
      architecture: { value: 'aarch64', from: 'the root partition’s type (GPT)' },
      image_build_date: { value: '2026-11-30', from: 'the file’s date' },
    });
  });

  it('suggests no firmware for a hybrid disk (an ESP and a BIOS boot partition), and reads a 4Kn GPT', async () => {
    const hybrid = join(dir, 'hybrid.raw');
    gptDisk(hybrid, ['21686148-6449-6e6f-744e-656564454649', 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b']);
    expect((await guestHints(hybrid, 'raw')).hw_firmware_type).toBeUndefined();
    // 4096-byte sectors: the header at 4096, its entries at LBA 2 = 8192.
    const disk = Buffer.alloc(64 * 1024);
    writeGpt(disk, [{ type: 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b' }], 4096);
    writeFileSync(join(dir, '4kn.raw'), disk);
    expect((await guestHints(join(dir, '4kn.raw'), 'raw')).hw_firmware_type?.value).toBe('uefi');
  });

  it('reads BIOS from an MBR alone, and nothing from a disk without a partition table', async () => {
    const mbr = Buffer.alloc(4096);
    mbr[446 + 4] = 0x83;
    mbr[510] = 0x55;
    mbr[511] = 0xaa;
    writeFileSync(join(dir, 'mbr.raw'), mbr);
    expect((await guestHints(join(dir, 'mbr.raw'), 'raw')).hw_firmware_type?.value).toBe('bios');
    writeFileSync(join(dir, 'blank.raw'), Buffer.alloc(4096));
    expect((await guestHints(join(dir, 'blank.raw'), 'raw')).hw_firmware_type).toBeUndefined();
    // Fails when 55 AA alone makes a table: random data ends its first sector so once in 65536.
    const chance = Buffer.alloc(4096, 0x5a);
    chance[510] = 0x55;
    chance[511] = 0xaa;
    writeFileSync(join(dir, 'chance.raw'), chance);
    expect((await guestHints(join(dir, 'chance.raw'), 'raw')).hw_firmware_type).toBeUndefined();
  });

  it('reads the distribution, version, default user and architecture cloud images are named with', () => {
    const v = (name: string): Record<string, string> =>
      Object.fromEntries(Object.entries(hintsFromName(name)).map(([k, s]) => [k, s.value]));
    expect(v('ubuntu-24.04-server-cloudimg-amd64.img')).toEqual({
      architecture: 'x86_64',
      os_distro: 'ubuntu',
      os_version: '24.04',
      image_original_user: 'ubuntu',
    });
    expect(v('noble-server-cloudimg-arm64.img')).toMatchObject({ architecture: 'aarch64', os_version: '24.04' });
    expect(v('debian-12-genericcloud-arm64.qcow2')).toMatchObject({ os_distro: 'debian', os_version: '12' });
    expect(v('Fedora-Cloud-Base-Generic-41-1.4.x86_64.qcow2')).toMatchObject({ os_distro: 'fedora', os_version: '41' });
    expect(v('CentOS-Stream-GenericCloud-9-20240101.0.x86_64.qcow2')).toMatchObject({
      os_distro: 'centos',
      os_version: '9',
      image_original_user: 'cloud-user',
    });
    expect(v('Rocky-9-GenericCloud.latest.x86_64.qcow2')).toMatchObject({ os_distro: 'rocky', os_version: '9' });
    expect(v('my-appliance.raw')).toEqual({});
    expect(hintsFromAdapter('lsilogic')).toEqual({
      hw_disk_bus: { value: 'scsi', from: "the VMDK's adapter type (lsilogic)" },
    });
    expect(hintsFromAdapter('ide')).toEqual({}); // what qemu-img writes into every vmdk
    expect(hintsFromAdapter(undefined)).toEqual({});
  });
});
