/** The catalog `glance-uploader catalog example` prints: every feature, commented, to start from. */
export const CATALOG_EXAMPLE = `# yaml-language-server: $schema=catalog.schema.json   (glance-uploader catalog schema > catalog.schema.json)
# The images each cloud and region must have. \`glance-uploader plan\` shows what would change,
# \`glance-uploader apply\` makes it so. The state lives in the clouds (properties on each image),
# so any machine can plan and apply the same catalog.
catalog: acme-images          # kept on every image the catalog makes

targets:                      # where every family goes, unless it says otherwise
  - cloud: prod               # a cloud of clouds.yaml (or saved in the app; "local" is the local server)
    regions: [RegionOne, RegionTwo]
  - cloud: dr-site            # several independent clouds
    regions: [RegionOne]

families:
  ubuntu-24.04:
    name: Ubuntu 24.04        # the newest version carries this plain name
    disk_format: qcow2
    min_disk: 10
    min_ram: 1024
    visibility: shared
    properties:
      os_distro: ubuntu
      os_version: "24.04"     # values are strings: quote numbers
    tags: [ubuntu, lts]
    members:                  # shared with these projects
      - project: 0f4a0c1bd5e94c6f9a3b7e1d2c3b4a59
        accept_with: tenant-a # optional: a cloud entry of that project, to accept the share
    lifecycle:
      older: hide             # hide | community | deactivate | keep
      keep: 3                 # the 3 newest versions stay; older ones are deleted
      rename: "{name} ({version})"
    versions:
      - version: "20241101"   # quote versions: 1.10 unquoted is the number 1.1
        file: images/ubuntu-24.04-20241101.qcow2
      - version: "20241201"
        url: https://cloud-images.ubuntu.com/noble/20241201/noble-server-cloudimg-amd64.img
        sha512: "${'0'.repeat(128)}"   # quoted: all digits would read as a number

  debian-12:
    name: Debian 12
    lifecycle: { older: community, keep: 2 }
    packer:                   # the last run of a Packer build (manifest post-processor)
      manifest: packer/debian/packer-manifest.json
      build: debian12

  nightly:
    name: Nightly build
    targets:
      - cloud: prod
        regions: [RegionOne]
    lifecycle: { older: deactivate, keep: 5 }
    folder:                   # every image a build writes here is a version
      path: out/nightly
      match: "nightly-(?<version>[0-9-]+)\\\\.qcow2"
`;
