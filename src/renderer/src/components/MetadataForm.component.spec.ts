import { fireEvent, render, screen } from '@testing-library/svelte';
import { flushSync } from 'svelte';
import { describe, expect, it, vi } from 'vitest';
import { createFields } from '../lib/form-state.svelte';
import type { ImageSchema } from '../lib/metadata-validation';
import MetadataForm from './MetadataForm.svelte';

const schema: ImageSchema = {
  properties: {
    disk_format: { enum: [null, 'qcow2', 'raw', 'vmdk'] },
    container_format: { enum: [null, 'bare', 'ova'] },
    visibility: { enum: ['private', 'public'] },
    status: { readOnly: true },
    tags: { items: { maxLength: 255 } },
  },
};

async function type(el: HTMLElement, value: string): Promise<void> {
  await fireEvent.input(el, { target: { value } });
  flushSync();
}

describe('MetadataForm', () => {
  it('offers the formats and visibilities of the cloud’s schema', () => {
    render(MetadataForm, { fields: createFields(), schema });
    const disk = screen.getByRole('combobox', { name: 'Disk format' });
    expect([...disk.querySelectorAll('option')].map((o) => o.textContent)).toEqual([
      'As detected',
      'qcow2',
      'raw',
      'vmdk',
    ]);
    const vis = screen.getByRole('combobox', { name: 'Visibility' });
    expect([...vis.querySelectorAll('option')].map((o) => o.value)).toEqual(['private', 'public']);
  });

  it('validates as the user types, marks the field invalid and says why, and clears when fixed', async () => {
    const fields = createFields();
    const onchange = vi.fn();
    render(MetadataForm, { fields, schema, onchange });
    const ram = screen.getByRole('textbox', { name: /Minimum RAM/ });
    await type(ram, '1.5');
    expect(ram.getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByText('Minimum RAM must be a whole number (0 or more).')).toBeTruthy();
    expect(fields.minRam).toBe('1.5'); // what was typed is kept, even when wrong
    await type(ram, '2048');
    expect(ram.getAttribute('aria-invalid')).toBe('false');
    expect(screen.queryByText(/whole number/)).toBeNull();
    expect(onchange).toHaveBeenCalled();
  });

  it('checks custom properties: read-only fields, names given twice, fields that have their own input', async () => {
    const fields = createFields();
    render(MetadataForm, { fields, schema });
    for (let i = 0; i < 3; i++) await fireEvent.click(screen.getByRole('button', { name: 'Add a property' }));
    flushSync();
    await type(screen.getByRole('textbox', { name: 'Property 1 name' }), 'status');
    await type(screen.getByRole('textbox', { name: 'Property 2 name' }), 'os_distro');
    await type(screen.getByRole('textbox', { name: 'Property 3 name' }), 'os_distro');
    expect(screen.getByText('"status" is set by Glance itself.')).toBeTruthy();
    expect(screen.getByText('"os_distro" is given twice.')).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Remove property 1' }));
    flushSync();
    expect(screen.queryByText(/set by Glance itself/)).toBeNull();
    expect(fields.properties.map((p) => p.key)).toEqual(['os_distro', 'os_distro']);
  });
});
