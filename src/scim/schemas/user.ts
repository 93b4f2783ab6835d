import { attr, complex, multi, multiValuedSubs, str, type SchemaDef } from './attribute.js';

export const USER_URN = 'urn:ietf:params:scim:schemas:core:2.0:User';

/** RFC 7643 §4.1 and the §8.7.1 schema representation. */
export const userSchema: SchemaDef = {
  id: USER_URN,
  name: 'User',
  description: 'User Account',
  attributes: [
    str('userName', "Unique identifier for the User, typically used by the user to directly authenticate to the service provider. Each User MUST include a non-empty userName value. This identifier MUST be unique across the service provider's entire set of Users. REQUIRED.", {
      required: true,
      uniqueness: 'server',
    }),
    complex('name', "The components of the user's real name.", [
      str('formatted', "The full name, including all middle names, titles, and suffixes as appropriate, formatted for display (e.g., 'Ms. Barbara J Jensen, III')."),
      str('familyName', "The family name of the User, or last name in most Western languages (e.g., 'Jensen' given the full name 'Ms. Barbara J Jensen, III')."),
      str('givenName', "The given name of the User, or first name in most Western languages (e.g., 'Barbara' given the full name 'Ms. Barbara J Jensen, III')."),
      str('middleName', "The middle name(s) of the User (e.g., 'Jane' given the full name 'Ms. Barbara J Jensen, III')."),
      str('honorificPrefix', "The honorific prefix(es) of the User, or title in most Western languages (e.g., 'Ms.' given the full name 'Ms. Barbara J Jensen, III')."),
      str('honorificSuffix', "The honorific suffix(es) of the User, or suffix in most Western languages (e.g., 'III' given the full name 'Ms. Barbara J Jensen, III')."),
    ]),
    str('displayName', 'The name of the User, suitable for display to end-users.'),
    str('nickName', 'The casual way to address the user in real life.'),
    attr('profileUrl', 'reference', "A fully qualified URL pointing to a page representing the User's online profile.", { referenceTypes: ['external'] }),
    str('title', "The user's title, such as \"Vice President.\""),
    str('userType', 'Used to identify the relationship between the organization and the user.'),
    str('preferredLanguage', "Indicates the User's preferred written or spoken language."),
    str('locale', "Used to indicate the User's default location for purposes of localizing items such as currency, date time format, or numerical representations."),
    str('timezone', "The User's time zone in the 'Olson' time zone database format, e.g., 'America/Los_Angeles'."),
    attr('active', 'boolean', "A Boolean value indicating the User's administrative status."),
    str('password', "The User's cleartext password. This attribute is intended to be used as a means to specify an initial password when creating a new User or to reset an existing User's password.", {
      mutability: 'writeOnly',
      returned: 'never',
    }),
    multi('emails', 'Email addresses for the user.', multiValuedSubs('Email addresses for the user.', ['work', 'home', 'other'])),
    multi('phoneNumbers', 'Phone numbers for the User.', multiValuedSubs('Phone number of the User.', ['work', 'home', 'mobile', 'fax', 'pager', 'other'])),
    multi('ims', 'Instant messaging addresses for the User.', multiValuedSubs('Instant messaging address for the User.', ['aim', 'gtalk', 'icq', 'xmpp', 'msn', 'skype', 'qq', 'yahoo'])),
    multi('photos', 'URLs of photos of the User.', multiValuedSubs('URL of a photo of the User.', ['photo', 'thumbnail'], { referenceTypes: ['external'] }, 'reference')),
    multi('addresses', 'A physical mailing address for this User.', [
      str('formatted', 'The full mailing address, formatted for display or use with a mailing label.'),
      str('streetAddress', 'The full street address component, which may include house number, street name, P.O. box, and multi-line extended street address information.'),
      str('locality', 'The city or locality component.'),
      str('region', 'The state or region component.'),
      str('postalCode', 'The zip code or postal code component.'),
      str('country', 'The country name component.'),
      str('type', "A label indicating the attribute's function, e.g., 'work' or 'home'.", { canonicalValues: ['work', 'home', 'other'] }),
      attr('primary', 'boolean', "A Boolean value indicating the 'primary' or preferred attribute value for this attribute."),
    ]),
    multi(
      'groups',
      "A list of groups to which the user belongs, either through direct membership, through nested groups, or dynamically calculated.",
      [
        str('value', "The identifier of the User's group.", { mutability: 'readOnly' }),
        attr('$ref', 'reference', "The URI of the corresponding 'Group' resource to which the user belongs.", { referenceTypes: ['User', 'Group'], mutability: 'readOnly' }),
        str('display', 'A human-readable name, primarily used for display purposes.', { mutability: 'readOnly' }),
        str('type', "A label indicating the attribute's function, e.g., 'direct' or 'indirect'.", { canonicalValues: ['direct', 'indirect'], mutability: 'readOnly' }),
      ],
      { mutability: 'readOnly' },
    ),
    multi('entitlements', 'A list of entitlements for the User that represent a thing the User has.', multiValuedSubs('The value of an entitlement.', undefined)),
    multi('roles', 'A list of roles for the User that collectively represent who the User is, e.g., \'Student\', \'Faculty\'.', multiValuedSubs('The value of a role.', undefined)),
    multi('x509Certificates', 'A list of certificates issued to the User.', multiValuedSubs('The value of an X.509 certificate.', undefined, {}, 'binary')),
  ],
};
