/**
 * Test-side helpers that create and delete images in the reference Glance directly over HTTP,
 * independent of the engine under test (so an engine bug cannot hide itself).
 */
import { randomUUID } from 'node:crypto';
import { issueToken, type ReferenceCloud, type Region } from '../openstack/reference-openstack.ts';

export interface CreatedImage {
  id: string;
  name: string;
  region: Region;
}

export class ReferenceImages {
  readonly created: CreatedImage[] = [];
  #token: string | undefined;

  constructor(
    private readonly cloud: ReferenceCloud,
    private readonly who: 'demo' | 'admin' = 'demo',
  ) {}

  async #auth(): Promise<string> {
    this.#token ??= await issueToken(this.cloud, this.who);
    return this.#token;
  }

  /** A unique name for this test run, so parallel test files never see each other's images. */
  static uniqueName(prefix: string): string {
    return `${prefix}-${randomUUID().slice(0, 8)}`;
  }

  async create(
    region: Region,
    name: string,
    fields: Record<string, unknown> = {},
    data?: Buffer,
  ): Promise<CreatedImage> {
    const base = this.cloud.glance[region].url;
    const token = await this.#auth();
    const res = await fetch(`${base}/v2/images`, {
      method: 'POST',
      headers: { 'x-auth-token': token, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ name, disk_format: 'raw', container_format: 'bare', ...fields }),
    });
    const body = (await res.json()) as { id: string };
    if (res.status !== 201) throw new Error(`create ${name} in ${region}: HTTP ${res.status} ${JSON.stringify(body)}`);
    const image = { id: body.id, name, region };
    this.created.push(image);
    if (data !== undefined) {
      const put = await fetch(`${base}/v2/images/${body.id}/file`, {
        method: 'PUT',
        headers: { 'x-auth-token': token, 'content-type': 'application/octet-stream' },
        body: Uint8Array.from(data),
      });
      await put.arrayBuffer();
      if (put.status !== 204) throw new Error(`upload ${name}: HTTP ${put.status}`);
    }
    return image;
  }

  /** The image as Glance shows it (undefined: 404, gone). */
  async get(region: Region, id: string): Promise<{ id: string; status: string } | undefined> {
    const res = await fetch(`${this.cloud.glance[region].url}/v2/images/${id}`, {
      headers: { 'x-auth-token': await this.#auth(), accept: 'application/json' },
    });
    if (res.status === 404) {
      await res.arrayBuffer();
      return undefined;
    }
    if (res.status !== 200) throw new Error(`get ${id} in ${region}: HTTP ${res.status}`);
    return (await res.json()) as { id: string; status: string };
  }

  /** An image made by the code under test, deleted with the others at the end. */
  track(region: Region, id: string, name = id): void {
    if (id !== '') this.created.push({ id, name, region });
  }

  async deleteAll(): Promise<void> {
    const token = await this.#auth();
    for (const img of this.created.splice(0)) {
      const res = await fetch(`${this.cloud.glance[img.region].url}/v2/images/${img.id}`, {
        method: 'DELETE',
        headers: { 'x-auth-token': token },
      });
      await res.arrayBuffer();
    }
  }
}
