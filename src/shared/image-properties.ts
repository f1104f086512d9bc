/**
 * Properties Glance Uploader puts on images whose id it fixed (a catalog's): read by the
 * transfer (which target made an image, whether it was verified) and by the catalog's plan.
 */

/** The queue target that created the image: tells our own create from another machine's. */
export const MADE_BY = 'glance_uploader_made_by';

/**
 * The sha512 of the source the image was verified against, set once it was (a file changed while
 * it was sent leaves an active image without it: it is checked again, never taken as done).
 */
export const SOURCE_SHA512 = 'glance_uploader_source_sha512';
