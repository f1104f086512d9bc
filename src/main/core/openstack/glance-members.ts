/**
 * Image members (Glance v2 `/v2/images/{id}/members`): who an image is shared with. Only a
 * `shared` image has members; the owner adds one (it starts `pending`), and only the member's
 * project (or an admin) accepts it, so `setMemberStatus` is called with the consumer's client.
 */
import { glanceError } from './glance-errors';
import type { GlanceClient } from './glance-client';

export interface ImageMember {
  member_id: string;
  image_id: string;
  status: 'pending' | 'accepted' | 'rejected';
}

const enc = encodeURIComponent;

export async function listMembers(glance: GlanceClient, imageId: string): Promise<ImageMember[]> {
  const res = await glance.request({ method: 'GET', path: `/v2/images/${enc(imageId)}/members` });
  if (res.status !== 200) throw glanceError(res, `Reading the members of image ${imageId} failed`);
  return (JSON.parse(res.body.toString('utf8')) as { members?: ImageMember[] }).members ?? [];
}

export async function addMember(glance: GlanceClient, imageId: string, project: string): Promise<void> {
  const res = await glance.request({
    method: 'POST',
    path: `/v2/images/${enc(imageId)}/members`,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ member: project }),
  });
  // 409: already a member (another run added it): what was wanted.
  if (res.status !== 200 && res.status !== 409)
    throw glanceError(res, `Sharing image ${imageId} with ${project} failed`);
}

export async function setMemberStatus(
  glance: GlanceClient,
  imageId: string,
  project: string,
  status: ImageMember['status'],
): Promise<void> {
  const res = await glance.request({
    method: 'PUT',
    path: `/v2/images/${enc(imageId)}/members/${enc(project)}`,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ status }),
  });
  if (res.status !== 200) throw glanceError(res, `Setting ${project}'s share of image ${imageId} to ${status} failed`);
}
