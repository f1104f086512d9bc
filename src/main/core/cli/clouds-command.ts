/**
 * `glance-uploader clouds list|show|save|forget`: the clouds the engine knows (clouds.yaml, and
 * those saved in the app), what each region offers, and saving a cloud from a terminal with its
 * secret sealed by a passphrase (the app's keychain is out of a terminal's reach).
 */
import { cloudBlock } from '../clouds/cloud-block';
import type { Engine } from '../clouds/engine';
import { isLocalCloud } from '../distribution/local-cloud';
import { EngineError } from '../io/errors';
import type { Db } from '../queue/database';
import { probeConversion } from '../openstack/conversion-probe';
import { describeConversion, RegionFacts, type ConversionFact, type Known } from '../queue/region-facts';
import { UsageError } from './args';
import { EXIT } from './exit-codes';
import { out, parse, type CliIo, type Parsed } from './io';
import { cliSavedClouds, withContext } from './cli-context';

export const CLOUDS_HELP = `Usage: glance-uploader clouds list [--json]
       glance-uploader clouds show NAME [--region R] [--probe] [--json]
       glance-uploader clouds save NAME --auth-url URL [--username U --project P]
                          [--user-domain D] [--project-domain D] [--region R]
                          [--application-credential-id ID] --secret-stdin
       glance-uploader clouds forget NAME

save keeps a cloud in the data folder, as the app does, its password (or application
credential secret, read from the first line of stdin) sealed with the passphrase in
GLANCE_UPLOADER_SECRET_KEY: the app's OS keychain is not reachable from a terminal. clouds.yaml
wins over a saved cloud of the same name.

show asks each region (or R) what it offers: upload methods (direct, and the import methods
of /v2/info/import) and stores, and says whether its imports convert (Glance's image_conversion:
a raw file is then sent as a compressed qcow2), as the doctor last found out, with the date.
--probe finds out again: a 1 MiB qcow2 imported with glance-direct, then deleted.`;

const CLOUDS_OPTIONS = {
  region: { type: 'string' },
  probe: { type: 'boolean' },
  'auth-url': { type: 'string' },
  username: { type: 'string' },
  project: { type: 'string' },
  'user-domain': { type: 'string' },
  'project-domain': { type: 'string' },
  'application-credential-id': { type: 'string' },
  'secret-stdin': { type: 'boolean' },
} as const;

type CloudsArgs = Parsed<typeof CLOUDS_OPTIONS>;

export async function cloudsCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  const p = parse(rest, CLOUDS_OPTIONS);
  const known = sub === 'list' || sub === 'show' || sub === 'save' || sub === 'forget';
  if (!known || p.values.help === true)
    return (out(io, CLOUDS_HELP), sub === undefined || p.values.help === true ? EXIT.ok : EXIT.usage);
  return withContext(io, async ({ db, engine }) => {
    if (sub === 'show') return await showCloud(io, engine, new RegionFacts(db), p);
    if (sub === 'save' || sub === 'forget') return await saveCloud(io, db, sub, p);
    const list = engine.listClouds();
    if (p.values.json === true) out(io, JSON.stringify({ clouds: list, default: io.env.OS_CLOUD ?? null }));
    else if (list.length === 0)
      out(io, 'No cloud found: set OS_CLIENT_CONFIG_FILE or create ~/.config/openstack/clouds.yaml.');
    else
      for (const c of list)
        out(
          io,
          `${c.name === io.env.OS_CLOUD ? '*' : ' '} ${c.name}  ${c.authUrl}  ${c.authType}  ${c.regions.join(',') || '(all regions)'}${c.insecure ? '  INSECURE (verify: false)' : ''}`,
        );
    return EXIT.ok;
  });
}

/** clouds save / forget: the CLI's way to keep a cloud with its secret sealed by a passphrase. */
async function saveCloud(io: CliIo, db: Db, sub: 'save' | 'forget', p: CloudsArgs): Promise<number> {
  const name = p.positionals[0];
  if (name === undefined || p.positionals.length > 1)
    throw new UsageError(`clouds ${sub} takes one NAME.`, 'glance-uploader clouds --help');
  const saved = cliSavedClouds(db, io.env);
  if (sub === 'forget') {
    if (!saved.has(name))
      throw new EngineError('config.cloud_not_found', `No saved cloud named "${name}".`, {
        hint: 'glance-uploader clouds list shows them (source "saved in the app").',
      });
    saved.remove(name);
    out(io, p.values.json === true ? JSON.stringify({ forgotten: name }) : `forgot ${name}`);
    return EXIT.ok;
  }
  const v = p.values;
  const authUrl = v['auth-url'];
  if (authUrl === undefined || !/^https?:\/\//.test(authUrl))
    throw new UsageError('clouds save needs --auth-url http(s)://keystone.../v3.', 'glance-uploader clouds --help');
  if (isLocalCloud(name)) throw new UsageError(`"${name}" is one of the local server's names.`, 'Choose another name.');
  if (v['secret-stdin'] !== true || io.stdin === undefined)
    throw new UsageError(
      'clouds save reads the password (or secret) from stdin: add --secret-stdin and pipe it in.',
      'For example: pass show openstack/prod | glance-uploader clouds save prod ... --secret-stdin',
    );
  let input = '';
  for await (const chunk of io.stdin) input += String(chunk);
  const secret = input.split(/\r?\n/)[0] ?? '';
  if (secret === '') throw new UsageError('Nothing came on stdin.', 'Pipe the password in, one line.');
  const appCred = v['application-credential-id'];
  saved.save(
    name,
    cloudBlock({
      authUrl,
      username: v.username,
      projectName: v.project,
      userDomain: v['user-domain'],
      projectDomain: v['project-domain'],
      region: v.region,
      ...(appCred !== undefined
        ? { applicationCredentialId: appCred, applicationCredentialSecret: secret }
        : { password: secret }),
    }),
  );
  out(
    io,
    p.values.json === true
      ? JSON.stringify({ saved: name })
      : `saved ${name} (secret sealed with GLANCE_UPLOADER_SECRET_KEY)`,
  );
  return EXIT.ok;
}

async function showCloud(io: CliIo, engine: Engine, facts: RegionFacts, p: CloudsArgs): Promise<number> {
  const name = p.positionals[0] ?? io.env.OS_CLOUD;
  if (name === undefined || name === '')
    throw new UsageError('clouds show needs a cloud name (or OS_CLOUD).', 'glance-uploader clouds list shows them.');
  const only = p.values.region;
  const regions = only !== undefined ? [only] : (await engine.listRegions(name)).map((r) => r.id);
  const caps = await Promise.all(regions.map((r) => engine.regionCapabilities(name, r)));
  if (p.values.probe === true)
    for (const r of regions) facts.rememberConversion(name, r, await probeConversion(await engine.glance(name, r), r));
  const conversion = (r: string): Known<ConversionFact> | undefined => facts.conversion(name, r);
  if (p.values.json === true) {
    const regionsJson = caps.map((c) => {
      const known = conversion(c.region);
      return { ...c, conversion: known === undefined ? null : { ...known.value, checkedAt: known.checkedAt } };
    });
    out(io, JSON.stringify({ cloud: name, regions: regionsJson }));
    return EXIT.ok;
  }
  for (const c of caps) {
    out(io, `${c.region}`);
    out(io, `  methods: ${c.methods.join(', ')}`);
    out(
      io,
      `  stores:  ${c.stores.length === 0 ? '(one store)' : c.stores.map((s) => `${s.id}${s.default ? ' (default)' : ''}`).join(', ')}`,
    );
    out(io, `  imports: ${describeConversion(conversion(c.region))}`);
  }
  return EXIT.ok;
}
