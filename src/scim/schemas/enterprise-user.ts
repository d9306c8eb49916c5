import { URN } from '../urns.ts'
import { attr, complex, type SchemaDef } from './types.ts'

/** The enterprise User extension, RFC 7643 §4.3 and §8.7.1. */
export const enterpriseUserSchema: SchemaDef = {
  id: URN.enterpriseUser,
  name: 'EnterpriseUser',
  description: 'Enterprise User',
  attributes: [
    attr('employeeNumber', 'string', 'A string identifier, typically numeric or alphanumeric, assigned to a person.'),
    attr('costCenter', 'string', 'Identifies the name of a cost center.'),
    attr('organization', 'string', 'Identifies the name of an organization.'),
    attr('division', 'string', 'Identifies the name of a division.'),
    attr('department', 'string', 'Identifies the name of a department.'),
    complex('manager', "The user's manager.", [
      attr('value', 'string', 'The id of the SCIM resource representing the manager.', { caseExact: true }),
      attr('$ref', 'reference', 'The URI of the SCIM resource representing the manager.', { referenceTypes: ['User'] }),
      attr('displayName', 'string', 'The displayName of the manager.', { mutability: 'readOnly' }),
    ]),
  ],
}
