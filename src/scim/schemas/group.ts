import { attr, multi, str, type AttributeDef, type SchemaDef } from './attribute.js';

export const GROUP_URN = 'urn:ietf:params:scim:schemas:core:2.0:Group';

/**
 * RFC 7643 §4.2 and §8.7.1. §8.7.1 gives members `value`, `$ref` and `type`; `display` (from the
 * §4.2 example) is kept as the client sent it, and like the others it is immutable: change it by
 * adding the member again with another one.
 */
export const groupSchema: SchemaDef = {
  id: GROUP_URN,
  name: 'Group',
  description: 'Group',
  attributes: [
    str('displayName', 'A human-readable name for the Group. REQUIRED.', { required: true }),
    multi('members', 'A list of members of the Group.', [
      str('value', 'Identifier of the member of this Group.', { mutability: 'immutable' }),
      attr('$ref', 'reference', 'The URI corresponding to a SCIM resource that is a member of this Group.', { referenceTypes: ['User', 'Group'], mutability: 'immutable' }),
      str('display', 'A human-readable name, primarily used for display purposes. Returned as the client sent it, and only if it sent one.', { mutability: 'immutable' }),
      str('type', "A label indicating the type of resource, e.g., 'User' or 'Group'.", { canonicalValues: ['User', 'Group'], mutability: 'immutable' }),
    ]),
  ],
};

/**
 * The Group schema when the server fills in a member's `display` the client did not send
 * (SCIMCAST_COMPAT_MEMBER_DISPLAY): /Schemas says so in the sub-attribute's description.
 */
export function groupSchemaWithNamedMemberDisplay(): SchemaDef {
  const display = (s: AttributeDef): AttributeDef =>
    s.name === 'display'
      ? { ...s, description: "A human-readable name, primarily used for display purposes. The one the client sent; when it sent none, the server fills in the member's displayName (a Group) or userName (a User)." }
      : s;
  return { ...groupSchema, attributes: groupSchema.attributes.map((a) => (a.name === 'members' ? { ...a, subAttributes: a.subAttributes!.map(display) } : a)) };
}
