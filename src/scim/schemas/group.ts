import { attr, multi, str, type SchemaDef } from './attribute.js';

export const GROUP_URN = 'urn:ietf:params:scim:schemas:core:2.0:Group';

/** RFC 7643 §4.2 and §8.7.1. */
export const groupSchema: SchemaDef = {
  id: GROUP_URN,
  name: 'Group',
  description: 'Group',
  attributes: [
    str('displayName', 'A human-readable name for the Group. REQUIRED.', { required: true }),
    multi('members', 'A list of members of the Group.', [
      str('value', 'Identifier of the member of this Group.', { mutability: 'immutable' }),
      attr('$ref', 'reference', 'The URI corresponding to a SCIM resource that is a member of this Group.', { referenceTypes: ['User', 'Group'], mutability: 'immutable' }),
      str('display', 'A human-readable name, primarily used for display purposes.', { mutability: 'readOnly' }),
      str('type', "A label indicating the type of resource, e.g., 'User' or 'Group'.", { canonicalValues: ['User', 'Group'], mutability: 'immutable' }),
    ]),
  ],
};
