/**
 * Who may see and change an image, as Glance 25 decides with its default (legacy) policy: an
 * admin sees and changes everything; others see their project's images, public and community
 * ones, and shared ones they are a member of (whatever their answer); only the owner changes
 * an image. The few rules an admin alone passes are named after Glance's policy rules, and
 * refused with its words. One place for these rules: every route asks here.
 */
import type { Caller } from './identity';
import { HttpError } from './http-kit';
import type { ImageRecord, ImageStore } from './image-store';

/** Glance's `get_image` (the database's visibility rule). */
export function canSee(store: ImageStore, img: ImageRecord, caller: Caller): boolean {
  // An image without an owner (an admin may make one) is everyone's to see, though listed for none.
  if (caller.isAdmin || img.owner === null || img.owner === caller.projectId) return true;
  if (img.visibility === 'public' || img.visibility === 'community') return true;
  return img.visibility === 'shared' && store.members.get(img.id, caller.projectId) !== undefined;
}

/** A live image the caller may see; otherwise 404 with the route's words (Glance's differ by route). */
export function visibleImage(
  store: ImageStore,
  id: string,
  caller: Caller,
  notFound = `No image found with ID ${id}`,
): ImageRecord {
  const img = store.get(id);
  if (img === undefined || img.status === 'deleted' || !canSee(store, img, caller)) throw new HttpError(404, notFound);
  return img;
}

/** Glance's `check_is_image_mutable`: the owner or an admin. */
export function owns(img: ImageRecord, caller: Caller): boolean {
  return caller.isAdmin || (img.owner !== null && img.owner === caller.projectId);
}

/** `owns`, or 403 with the route's words. */
export function mustOwn(img: ImageRecord, caller: Caller, refused = 'You do not own this image'): void {
  if (!owns(img, caller)) throw new HttpError(403, refused);
}

/**
 * What GET /v2/images starts from, as Glance's database query: an admin, every image; others,
 * their project's, public and community ones, and shared ones they are a member of, in the
 * member status asked (default accepted; `all`: any). Ownerless images are listed for admins only.
 */
export function listable(store: ImageStore, all: ImageRecord[], caller: Caller, memberStatus: string): ImageRecord[] {
  if (caller.isAdmin) return all;
  const shared = store.members.sharedWith(caller.projectId);
  return all.filter((i) => {
    if (i.owner === caller.projectId || i.visibility === 'public' || i.visibility === 'community') return true;
    const status = i.visibility === 'shared' ? shared.get(i.id) : undefined;
    return status !== undefined && (memberStatus === 'all' || memberStatus === status);
  });
}

/** A member entry the caller may see: the owner and an admin see all, a member its own (Glance's member filter). */
export function mayReadMember(img: ImageRecord, memberId: string, caller: Caller): boolean {
  return owns(img, caller) || memberId === caller.projectId;
}

/** A rule only an admin passes (publicize_image, copy_image, stores_info_detail). */
export function mustBeAdmin(caller: Caller, rule: string): void {
  if (!caller.isAdmin) throw new HttpError(403, `You are not authorized to complete ${rule} action.`);
}

/** Making an image public is publicize_image; the other visibilities are anyone's. */
export function mayChangeVisibility(caller: Caller, visibility: unknown): void {
  if (visibility === 'public') mustBeAdmin(caller, 'publicize_image');
}
