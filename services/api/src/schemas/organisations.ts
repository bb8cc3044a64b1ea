/** Organisations and their admin tokens (CONTRACT.md, `POST /v1/orgs`, `.../admin-tokens`). */
import { Type } from '@sinclair/typebox';
import { Guid, Instant, Nullable, StringEnum, Timestamp } from './common';

export const Organisation = Type.Object({ id: Guid(), name: Type.String(), createdAt: Type.Optional(Timestamp()) });

export const NewOrganisation = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }) }, { additionalProperties: false });

export const OrganisationPage = Type.Partial(Type.Object({ orgs: Type.Array(Organisation), next: Nullable(Guid()) }));

export const AdminTokenView = Type.Object(
  {
    id: Guid(),
    createdAt: Timestamp(),
    expiresAt: Nullable(Timestamp()),
    revokedAt: Nullable(Timestamp()),
    state: StringEnum(['active', 'expired', 'revoked'] as const),
  },
  { description: 'An org-admin token as listed: never the token itself' },
);

export const NewAdminToken = Nullable(
  Type.Object({ expiresAt: Type.Optional(Instant({ description: 'When the token stops working; omitted: never' })) }, { additionalProperties: false }),
);

export const MintedAdminToken = Type.Object({ id: Type.Optional(Guid()), token: Type.String(), expiresAt: Type.Optional(Nullable(Timestamp())) });

export const TokenParams = Type.Object({ orgId: Guid(), tokenId: Guid() }, { additionalProperties: false });
