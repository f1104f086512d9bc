/**
 * Start or stop the reference OpenStack by hand (the test suite does it by itself):
 *   npm run openstack:up                 start, print the URLs and the clouds.yaml, leave it running
 *   npm run openstack:down -- STATE_DIR  stop what that run started, remove its state
 * Options for up: --token-expiration SECONDS
 */
import { loadReferenceCloud, startReferenceOpenStack, stopReferenceOpenStack } from './reference-openstack.ts';

const [cmd, ...rest] = process.argv.slice(2);
if (cmd === 'up') {
  const i = rest.indexOf('--token-expiration');
  const tokenExpiration = i >= 0 ? Number(rest[i + 1]) : undefined;
  const cloud = await startReferenceOpenStack({ tokenExpiration });
  console.log(`reference OpenStack ready in ${(cloud.readyMs / 1000).toFixed(1)} s`);
  console.log(`  keystone   ${cloud.keystoneUrl} (token expiration ${cloud.tokenExpiration} s)`);
  for (const [region, g] of Object.entries(cloud.glance)) console.log(`  glance     ${g.url}  ${region}`);
  console.log(`  swift      ${cloud.objectStore.url}  RegionOne (object-store)`);
  const { admin, demo, demoAdmin } = cloud.users;
  console.log(`  users      admin/${admin.password}, demo/${demo.password}, demo-admin/${demoAdmin.password}`);
  console.log(`  clouds     export OS_CLIENT_CONFIG_FILE=${cloud.cloudsYamlPath} OS_CLOUD=ref-demo`);
  console.log(`  stop       npm run openstack:down -- ${cloud.stateDir}`);
} else if (cmd === 'down' && rest[0] !== undefined) {
  await stopReferenceOpenStack(loadReferenceCloud(rest[0]));
  console.log(`stopped; ${rest[0]} removed`);
} else {
  console.error('usage: cli.ts up [--token-expiration S] | down STATE_DIR');
  process.exit(2);
}
