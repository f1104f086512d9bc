/**
 * Vitest global setup of the `integration` project: starts the reference OpenStack once for the
 * whole run, hands its coordinates to the tests (inject('referenceCloud')), stops exactly what it
 * started afterwards. REF_OPENSTACK_STATE=<dir> reuses one already started with
 * `npm run openstack:up` (handy while developing) and leaves it running.
 */
import type { TestProject } from 'vitest/node';
import {
  loadReferenceCloud,
  startReferenceOpenStack,
  stopReferenceOpenStack,
  type ReferenceCloud,
} from '../openstack/reference-openstack.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    referenceCloud: ReferenceCloud;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const reuse = process.env.REF_OPENSTACK_STATE;
  if (reuse !== undefined && reuse !== '') {
    const cloud = loadReferenceCloud(reuse);
    project.provide('referenceCloud', cloud);
    console.log(`[reference-openstack] reusing ${reuse}`);
    return async () => {};
  }
  const cloud = await startReferenceOpenStack({ log: (s) => console.log(`[reference-openstack] ${s}`) });
  console.log(
    `[reference-openstack] ready in ${(cloud.readyMs / 1000).toFixed(1)} s: keystone ${cloud.keystoneUrl}, ` +
      `RegionOne ${cloud.glance.RegionOne.url}, RegionTwo ${cloud.glance.RegionTwo.url}`,
  );
  project.provide('referenceCloud', cloud);
  return async () => {
    await stopReferenceOpenStack(cloud);
    console.log('[reference-openstack] stopped');
  };
}
