/**
 * A clouds.yaml for a test: the reference cloud's entries, plus extra demo-user entries that
 * differ by one setting (a wrong password, a dead image endpoint...).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { ReferenceCloud } from '../openstack/reference-openstack';

/** An entry for the reference's demo user; `extra` lines go at the entry's top level (YAML, 4 spaces). */
export function demoEntry(
  cloud: ReferenceCloud,
  name: string,
  o: { password?: string; region?: string; extra?: string[] } = {},
): string {
  return [
    `  ${name}:`,
    '    auth:',
    `      auth_url: ${cloud.keystoneUrl}`,
    '      username: demo',
    `      password: ${o.password ?? cloud.users.demo.password}`,
    '      project_name: demo',
    '      user_domain_id: default',
    '      project_domain_id: default',
    `    region_name: ${o.region ?? 'RegionOne'}`,
    ...(o.extra ?? []).map((l) => `    ${l}`),
    '',
  ].join('\n');
}

/** Writes the reference's clouds.yaml plus these entries to `path`; returns `path`. */
export function writeCloudsYaml(path: string, cloud: ReferenceCloud, entries: string[]): string {
  writeFileSync(path, readFileSync(cloud.cloudsYamlPath, 'utf8') + entries.join(''));
  return path;
}

/** A demo entry whose image endpoint is `url` (a fault proxy in front of the region's Glance). */
export function proxiedEntry(cloud: ReferenceCloud, name: string, url: string, region = 'RegionOne'): string {
  return demoEntry(cloud, name, { region, extra: [`image_endpoint_override: ${url}`] });
}
