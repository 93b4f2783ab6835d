import { attr, complex, str, type SchemaDef } from './attribute.js';

export const ENTERPRISE_USER_URN = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

/** RFC 7643 §4.3 and §8.7.1. */
export const enterpriseUserSchema: SchemaDef = {
  id: ENTERPRISE_USER_URN,
  name: 'EnterpriseUser',
  description: 'Enterprise User',
  attributes: [
    str('employeeNumber', 'Numeric or alphanumeric identifier assigned to a person, typically based on order of hire or association with an organization.'),
    str('costCenter', 'Identifies the name of a cost center.'),
    str('organization', 'Identifies the name of an organization.'),
    str('division', 'Identifies the name of a division.'),
    str('department', 'Identifies the name of a department.'),
    complex('manager', "The User's manager. A complex type that optionally allows service providers to represent organizational hierarchy by referencing the 'id' attribute of another User.", [
      str('value', 'The id of the SCIM resource representing the User\'s manager. REQUIRED.'),
      attr('$ref', 'reference', 'The URI of the SCIM resource representing the User\'s manager. REQUIRED.', { referenceTypes: ['User'] }),
      str('displayName', 'The displayName of the User\'s manager. OPTIONAL and READ-ONLY.', { mutability: 'readOnly' }),
    ]),
  ],
};
