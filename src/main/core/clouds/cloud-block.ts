/**
 * A cloud's clouds.yaml block from the fields a user gives (the app's cloud form, `clouds save`
 * on the command line): password or application credential, names or ids of project and
 * domains, region. One builder, so both keep a cloud the same way.
 */
export interface CloudFields {
  authUrl: string;
  username?: string;
  password?: string;
  projectName?: string;
  projectId?: string;
  userDomain?: string;
  projectDomain?: string;
  userDomainId?: string;
  projectDomainId?: string;
  applicationCredentialId?: string;
  applicationCredentialSecret?: string;
  region?: string;
}

/** Only what was given: an absent field is absent from the block, never null. */
export function cloudBlock(c: CloudFields): Record<string, unknown> {
  const auth: Record<string, string | undefined> = {
    auth_url: c.authUrl,
    username: c.username,
    password: c.password,
    project_name: c.projectName,
    user_domain_name: c.userDomain,
    project_domain_name: c.projectDomain,
    project_id: c.projectId,
    user_domain_id: c.userDomainId,
    project_domain_id: c.projectDomainId,
    application_credential_id: c.applicationCredentialId,
    application_credential_secret: c.applicationCredentialSecret,
  };
  return {
    ...(c.applicationCredentialId !== undefined ? { auth_type: 'v3applicationcredential' } : {}),
    auth: Object.fromEntries(Object.entries(auth).filter(([, v]) => v !== undefined)),
    ...(c.region !== undefined ? { region_name: c.region } : {}),
  };
}
