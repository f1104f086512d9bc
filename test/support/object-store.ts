/**
 * The reference object store as an outsider sees it: the demo project's containers and objects,
 * read with a demo token straight from Swift's API (not through the engine's client).
 */
import { issueToken, type ReferenceCloud } from '../openstack/reference-openstack';

export function demoAccountUrl(cloud: ReferenceCloud): string {
  return cloud.objectStore.catalogUrl.replace('%(project_id)s', cloud.users.demo.projectId);
}

/** Every object of the demo account, as "container/object" (empty containers as "container/"). */
export async function demoObjects(cloud: ReferenceCloud): Promise<string[]> {
  const token = await issueToken(cloud, 'demo');
  const get = async (path: string): Promise<{ name: string }[]> => {
    const res = await fetch(`${demoAccountUrl(cloud)}${path}?format=json`, { headers: { 'x-auth-token': token } });
    if (res.status === 204 || res.status === 404) return [];
    if (res.status !== 200) throw new Error(`GET ${path} as demo: HTTP ${res.status}`);
    return (await res.json()) as { name: string }[];
  };
  const out: string[] = [];
  for (const c of await get('')) {
    const objects = await get(`/${encodeURIComponent(c.name)}`);
    out.push(...(objects.length === 0 ? [`${c.name}/`] : objects.map((o) => `${c.name}/${o.name}`)));
  }
  return out;
}
