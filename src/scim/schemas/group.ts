import { URN } from '../urns.ts'
import { attr, type SchemaDef } from './types.ts'

/** The core Group schema, RFC 7643 §4.2 and §8.7.1. */
export const groupSchema: SchemaDef = {
  id: URN.group,
  name: 'Group',
  description: 'Group',
  attributes: [
    attr('displayName', 'string', 'A human-readable name for the Group. Unique per tenant, case-insensitive.', {
      required: true,
      uniqueness: 'server',
    }),
    attr('members', 'complex', 'A list of members of the Group.', {
      multiValued: true,
      subAttributes: [
        attr('value', 'string', 'Identifier of the member of this Group.', {
          caseExact: true,
          mutability: 'immutable',
        }),
        attr('$ref', 'reference', 'The URI of the member resource.', {
          mutability: 'immutable',
          referenceTypes: ['User', 'Group'],
        }),
        attr('display', 'string', 'A human-readable name of the member.', { mutability: 'readOnly' }),
        attr('type', 'string', 'The type of the member.', {
          mutability: 'immutable',
          canonicalValues: ['User', 'Group'],
        }),
      ],
    }),
  ],
}
