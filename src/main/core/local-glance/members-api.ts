/**
 * The image members API of the embedded server (`/v2/images/{id}/members[/{member}]`), as
 * Glance 25 answers it with its default policy: only a `shared` image has members; its owner
 * (or an admin) adds and removes them and sees them all; a member sees its own entry and
 * answers it (accepted, rejected, pending again), the owner may not answer for it. Add answers
 * 200 (not 201), remove 204; at most 128 members an image (Glance's image_member_quota).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isotime } from './glance-time';
import { pyRepr, pyTruthy } from './py-format';
import { HttpError, readBody, send } from './http-kit';
import type { Caller } from './identity';
import { mayReadMember, owns, visibleImage } from './image-access';
import type { ImageRecord, ImageStore } from './image-store';
import { MEMBER_STATUSES, type MemberRecord, type MemberStatus } from './member-store';

/** Glance's image_member_quota. */
const MEMBER_QUOTA = 128;

function memberDoc(m: MemberRecord): Record<string, unknown> {
  return {
    member_id: m.member_id,
    image_id: m.image_id,
    status: m.status,
    created_at: isotime(m.created_at),
    updated_at: isotime(m.updated_at),
    schema: '/v2/schemas/member',
  };
}

/** A JSON object body, with the words of Glance's JSONRequestDeserializer and of the members' one. */
async function bodyField(req: IncomingMessage, key: string, form: string): Promise<unknown> {
  const body = await readBody(req);
  if (body === null || typeof body !== 'object') throw new HttpError(400, 'Unexpected body type. Expected list/dict.');
  if (Array.isArray(body)) throw new HttpError(400, `Expected a ${key} in the form: ${form}`);
  return (body as Record<string, unknown>)[key];
}

/** GET and DELETE refuse a body, as Glance's routes with body_reject do (a length; chunks count only for POST, PUT, PATCH). */
function noBody(req: IncomingMessage): void {
  if (Number(req.headers['content-length'] ?? 0) > 0)
    throw new HttpError(400, 'A body is not expected with this request.');
}

export class MembersApi {
  constructor(private readonly store: ImageStore) {}

  #image(id: string, caller: Caller): ImageRecord {
    return visibleImage(this.store, id, caller, `Image ${id} not found.`);
  }

  /** The entry the caller may see: the owner and an admin see all, a member its own. */
  #entry(img: ImageRecord, memberId: string, caller: Caller): MemberRecord {
    const m = this.store.members.get(img.id, memberId);
    if (m === undefined || !mayReadMember(img, memberId, caller))
      throw new HttpError(404, `${memberId} not found in the member list of the image ${img.id}.`);
    return m;
  }

  list(req: IncomingMessage, res: ServerResponse, id: string, caller: Caller): void {
    noBody(req);
    const img = this.#image(id, caller);
    if (img.visibility !== 'shared')
      throw new HttpError(403, `Not allowed to list members for image ${id}: Only shared images have members.`);
    const all = this.store.members.list(img.id);
    const seen = owns(img, caller) ? all : all.filter((m) => m.member_id === caller.projectId);
    send(res, 200, { members: seen.map(memberDoc), schema: '/v2/schemas/members' });
  }

  async add(req: IncomingMessage, res: ServerResponse, id: string, caller: Caller): Promise<void> {
    const member = await bodyField(req, 'member', '{"member": "image_id"}');
    if (member === undefined) throw new HttpError(400, 'Member to be added not specified');
    if (!pyTruthy(member)) throw new HttpError(400, "Member can't be empty");
    const memberId = typeof member === 'string' ? member : pyRepr(member);
    const img = this.#image(id, caller);
    if (img.visibility !== 'shared' || !owns(img, caller))
      throw new HttpError(403, `Not allowed to create members for image ${id}.`);
    const attempted = this.store.members.count(img.id) + 1;
    if (attempted > MEMBER_QUOTA)
      throw new HttpError(
        413,
        `Image member limit exceeded for image ${id}: The limit has been exceeded on the number of allowed ` +
          `image members for this image. Attempted: ${attempted}, Maximum: ${MEMBER_QUOTA}:`,
      );
    if (this.store.members.get(img.id, memberId) !== undefined)
      throw new HttpError(409, `Member ${memberId} is duplicated for image ${id}`);
    send(res, 200, memberDoc(this.store.members.add(img.id, memberId)));
  }

  show(req: IncomingMessage, res: ServerResponse, id: string, memberId: string, caller: Caller): void {
    noBody(req);
    const img = this.#image(id, caller);
    if (img.visibility !== 'shared') throw new HttpError(404, 'Only shared images have members.');
    send(res, 200, memberDoc(this.#entry(img, memberId, caller)));
  }

  /** PUT: the member answers (the owner may not, an admin may). */
  async answer(req: IncomingMessage, res: ServerResponse, id: string, memberId: string, caller: Caller): Promise<void> {
    const status = await bodyField(req, 'status', '{"status": "status"}');
    if (status === undefined) throw new HttpError(400, 'Status not specified');
    const img = this.#image(id, caller);
    const refused = `Not allowed to update members for image ${id}.`;
    if (img.visibility !== 'shared' || (!caller.isAdmin && img.owner === caller.projectId))
      throw new HttpError(403, refused);
    const m = this.#entry(img, memberId, caller);
    if (!MEMBER_STATUSES.includes(status as MemberStatus))
      throw new HttpError(400, 'Incorrect request: Status must be "pending", "accepted" or "rejected".');
    send(res, 200, memberDoc(this.store.members.setStatus(m, status as MemberStatus)));
  }

  remove(req: IncomingMessage, res: ServerResponse, id: string, memberId: string, caller: Caller): void {
    noBody(req);
    const img = this.#image(id, caller);
    if (img.visibility !== 'shared' || !owns(img, caller))
      throw new HttpError(403, `Not allowed to delete members for image ${id}.`);
    this.#entry(img, memberId, caller);
    this.store.members.remove(img.id, memberId);
    // Glance's controller answers with its own webob Response(status=204): no Content-Type at all.
    send(res, 204);
  }
}
