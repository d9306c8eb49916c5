/**
 * What support tells the customer's IdP admin after `create`: where each printed value goes in Okta
 * and in Microsoft Entra ID, and what to check first.
 */
import type { MintedSecrets } from './mint.ts'

export function nextSteps(input: {
  tenantId: string
  baseUrl: string
  secrets: MintedSecrets
  /** True when `--seed-user` added a first user. */
  seeded: boolean
}): string[] {
  const { tenantId, baseUrl, secrets } = input
  return [
    "Next steps for the customer's IdP admin:",
    '  Okta (Applications > the app > Provisioning > Integration > Edit):',
    `    SCIM connector base URL: ${baseUrl}`,
    '    Unique identifier field for users: userName',
    '    Provisioning actions: Push New Users, Push Profile Updates, Push Groups (and Import New Users and Profile Updates)',
    `    Authentication Mode: Basic Auth with Username ${secrets.username} and the Password above,`,
    '      or HTTP Header with the Bearer token above',
    '    Press "Test Connector Configuration", Save, then under To App enable Create Users, Update User Attributes and',
    '    Deactivate Users.',
    input.seeded
      ? "    The tenant has one user, so Okta's SPEC test (it lists users and reads one) can pass."
      : `    Okta's SPEC test reads one existing user: a new tenant has none. Add one with --seed-user <email> on create, or: npm run tenant -- user add ${tenantId} <email>`,
    '  Microsoft Entra ID (Enterprise applications > the app > Provisioning > Automatic):',
    `    Tenant URL: ${baseUrl}?aadOptscim062020`,
    '    Secret Token: the Bearer token above (Entra does not use Basic)',
    `    Gallery apps use OAuth 2.0 client credentials instead: npm run tenant -- oauth-client create ${tenantId}`,
    '    Press "Test Connection", check the attribute mappings, then set Provisioning Status to On.',
    `  Check what arrived: npm run tenant -- log ${tenantId}   and   npm run tenant -- user show ${tenantId} <userName>`,
  ]
}
