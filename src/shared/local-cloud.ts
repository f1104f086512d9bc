/** The cloud name of the embedded server (where staging goes), whatever port it runs on today. */
export const LOCAL_CLOUD = 'local';
/** The same server as its admin user (`local-admin`): what only an admin may do there (copy-image, public images). */
export const LOCAL_ADMIN_CLOUD = 'local-admin';

/** Whether a cloud name is one of the local server's (not a cloud of the user's). */
export function isLocalCloud(name: string): boolean {
  return name === LOCAL_CLOUD || name === LOCAL_ADMIN_CLOUD;
}
