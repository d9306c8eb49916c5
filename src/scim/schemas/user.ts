import { URN } from '../urns.ts'
import { attr, complex, multiValuedParts, type SchemaDef } from './types.ts'

/** The core User schema, RFC 7643 §4.1 and §8.7.1. */
export const userSchema: SchemaDef = {
  id: URN.user,
  name: 'User',
  description: 'User Account',
  attributes: [
    attr(
      'userName',
      'string',
      'Unique identifier for the User, used to sign in. Unique per tenant, case-insensitive.',
      {
        required: true,
        uniqueness: 'server',
      },
    ),
    complex('name', "The components of the user's real name.", [
      attr('formatted', 'string', 'The full name, formatted for display.'),
      attr('familyName', 'string', 'The family name (last name).'),
      attr('givenName', 'string', 'The given name (first name).'),
      attr('middleName', 'string', 'The middle name(s).'),
      attr('honorificPrefix', 'string', 'The honorific prefix(es), e.g. "Ms.".'),
      attr('honorificSuffix', 'string', 'The honorific suffix(es), e.g. "III".'),
    ]),
    attr('displayName', 'string', 'The name of the User, suitable for display.'),
    attr('nickName', 'string', 'The casual way to address the user.'),
    attr('profileUrl', 'reference', "A URI of the user's online profile.", { referenceTypes: ['external'] }),
    attr('title', 'string', 'The user\'s title, such as "Vice President".'),
    attr('userType', 'string', 'The relationship between the organization and the user.'),
    attr('preferredLanguage', 'string', "The user's preferred written or spoken language (RFC 7231 Accept-Language)."),
    attr('locale', 'string', "The user's default location, e.g. en-US."),
    attr('timezone', 'string', "The user's time zone in IANA format, e.g. America/Los_Angeles."),
    attr('active', 'boolean', "The user's administrative status: false means the user cannot sign in."),
    attr('password', 'string', 'Accepted for compatibility; never stored or returned.', {
      mutability: 'writeOnly',
      returned: 'never',
    }),
    attr('emails', 'complex', 'Email addresses for the user.', {
      multiValued: true,
      subAttributes: multiValuedParts('string', ['work', 'home', 'other']),
    }),
    attr('phoneNumbers', 'complex', 'Phone numbers for the user.', {
      multiValued: true,
      subAttributes: multiValuedParts('string', ['work', 'home', 'mobile', 'fax', 'pager', 'other']),
    }),
    attr('ims', 'complex', 'Instant messaging addresses for the user.', {
      multiValued: true,
      subAttributes: multiValuedParts('string', ['aim', 'gtalk', 'icq', 'xmpp', 'msn', 'skype', 'qq', 'yahoo']),
    }),
    attr('photos', 'complex', 'URLs of photos of the user.', {
      multiValued: true,
      subAttributes: multiValuedParts('reference', ['photo', 'thumbnail'], { referenceTypes: ['external'] }),
    }),
    attr('addresses', 'complex', 'Physical mailing addresses for the user.', {
      multiValued: true,
      subAttributes: [
        attr('formatted', 'string', 'The full mailing address, formatted for display.'),
        attr('streetAddress', 'string', 'The full street address.'),
        attr('locality', 'string', 'The city or locality.'),
        attr('region', 'string', 'The state or region.'),
        attr('postalCode', 'string', 'The zip code or postal code.'),
        attr('country', 'string', 'The country name (ISO 3166-1 alpha-2).'),
        attr('type', 'string', 'A label indicating the function of the address.', {
          canonicalValues: ['work', 'home', 'other'],
        }),
        attr('primary', 'boolean', 'Indicates the primary address; at most one is true.'),
      ],
    }),
    // Returned on request (`attributes=groups`): reading memberships for every user of an import page
    // would double the rows a page reads, and neither Okta nor Entra reads it.
    attr(
      'groups',
      'complex',
      'The groups the user belongs to directly; returned when asked for (attributes=groups). Read-only; change membership through /Groups.',
      {
        multiValued: true,
        mutability: 'readOnly',
        returned: 'request',
        subAttributes: [
          // caseExact like the group's id it holds (and Group members.value): filters compare it as stored.
          attr('value', 'string', 'The id of the group.', { caseExact: true, mutability: 'readOnly' }),
          attr('$ref', 'reference', 'The URI of the group.', { mutability: 'readOnly', referenceTypes: ['Group'] }),
          attr('display', 'string', 'The displayName of the group.', { mutability: 'readOnly' }),
          attr('type', 'string', 'direct or indirect membership.', {
            mutability: 'readOnly',
            canonicalValues: ['direct', 'indirect'],
          }),
        ],
      },
    ),
    attr('entitlements', 'complex', 'Entitlements of the user.', {
      multiValued: true,
      subAttributes: multiValuedParts('string', []),
    }),
    attr('roles', 'complex', 'Roles of the user.', {
      multiValued: true,
      subAttributes: multiValuedParts('string', []),
    }),
    attr('x509Certificates', 'complex', 'X.509 certificates of the user (DER, base64).', {
      multiValued: true,
      subAttributes: multiValuedParts('binary', []),
    }),
  ],
}
