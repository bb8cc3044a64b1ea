/**
 * Fixed identities the simulator seeds by default, so scripts, tests and the demo can name them
 * without asking the simulator first. GUIDs are fixed on purpose: they appear in stored settings.
 */
export const DEFAULT_SEED = {
  tenantId: '7c1f1e32-5a0b-4c55-9d1e-2b8a4e6f0c11',
  tenantDomain: 'contoso.example',
  applicationId: '3f2d4b6a-8c1e-4f7a-9b2d-5e6c7a8b9d01',
  clientSecret: 'sim~Q8x7v.Kd2LmN4pR6sT8uW0yZ1aB3cE5gH7jJ',
  /** app-registration object id of the app's service principal in the tenant (the `oid` of app-only tokens) */
  servicePrincipalId: 'a4c2e6f8-1b3d-4e5f-8a7b-9c0d1e2f3a40',
  redirectUris: [] as string[],
  /**
   * The mailbox monitor's app registration: a public client (no secret) with the delegated IMAP,
   * SMTP and Graph User.Read scopes, as a recruitment system's plugin registers it.
   */
  monitorApplicationId: '5b7e9d1f-2a4c-4e6b-8d0f-1a3c5e7f9b02',
  users: [
    {
      email: 'alice@contoso.example',
      oid: '11111111-aaaa-4aaa-8aaa-000000000001',
      name: 'Alice Example',
      password: 'alice-Passw0rd!',
    },
    {
      email: 'bob@contoso.example',
      oid: '22222222-bbbb-4bbb-8bbb-000000000002',
      name: 'Bob Example',
      password: 'bob-Passw0rd!',
    },
    {
      email: 'carol@contoso.example',
      oid: '33333333-cccc-4ccc-8ccc-000000000003',
      name: 'Carol Example',
      password: 'carol-Passw0rd!',
    },
  ],
} as const;

/** Exchange Online's resource for IMAP and SMTP AUTH; the `aud` of their tokens. */
export const MAIL_RESOURCE = 'https://outlook.office.com';

/** The delegated scopes the mailbox monitor asks for (plus offline_access). */
export const MAIL_DELEGATED_SCOPES = [`${MAIL_RESOURCE}/IMAP.AccessAsUser.All`, `${MAIL_RESOURCE}/SMTP.Send`, 'https://graph.microsoft.com/User.Read'];

/** Microsoft's resource for EWS in Exchange Online; the `aud` of every EWS token. */
export const EXCHANGE_RESOURCE = 'https://outlook.office365.com';
