import { z } from 'zod';

import { errors } from '../../shared/domain/errors';
import type { Actor } from '../../shared/schemas/lifecycle';

/** The API's roles (app roles of the Entra ID app registration). */
export const ROLES = {
  reader: 'MLOps.Reader',
  contributor: 'MLOps.Contributor',
  approver: 'MLOps.Approver',
  admin: 'MLOps.Admin',
} as const;
export type Role = (typeof ROLES)[keyof typeof ROLES];

/**
 * Which roles satisfy a route's role: each writing role also reads, but no role stands in for
 * another writer's (an admin does not approve, an approver does not register: separation of duties).
 */
const SATISFIED_BY: Record<Role, readonly Role[]> = {
  [ROLES.reader]: [ROLES.reader, ROLES.contributor, ROLES.approver, ROLES.admin],
  [ROLES.contributor]: [ROLES.contributor],
  [ROLES.approver]: [ROLES.approver],
  [ROLES.admin]: [ROLES.admin],
};

/**
 * The role the approve and reject routes need. A model's approval policy may name another role a
 * decision needs on top (policies.approval.approverRole, checked by the lifecycle's decision rule).
 */
export const DECISION_ROLE: Role = ROLES.approver;

export const hasRole = (actor: Actor, role: Role): boolean => SATISFIED_BY[role].some((r) => actor.roles.includes(r));

/** The header App Service Authentication sets (and devhost plays locally): base64 JSON. */
export const PRINCIPAL_HEADER = 'x-ms-client-principal';

const principalSchema = z.object({
  auth_typ: z.string().optional(),
  claims: z.array(z.object({ typ: z.string(), val: z.string() })).max(1000),
  name_typ: z.string().optional(),
  role_typ: z.string().optional(),
});

const ROLE_CLAIMS = ['roles', 'role', 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role'];
const ID_CLAIMS = [
  'preferred_username',
  'upn',
  'email',
  'name',
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name',
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn',
  'oid',
  'http://schemas.microsoft.com/identity/claims/objectidentifier',
  'sub',
];

/**
 * The caller, from the platform's authentication layer only (`x-ms-client-principal`); undefined
 * when the request carries none. Its id is the name claim the principal declares (`name_typ`),
 * else the first of the usual user-name and object-id claims; its roles are the role claims.
 * A header that is not a principal is refused (UNAUTHENTICATED), not ignored.
 */
export function actorFromPrincipal(header: string | null): Actor | undefined {
  if (header === null || header === '') return undefined;
  let parsed: z.infer<typeof principalSchema>;
  try {
    const json: unknown = JSON.parse(Buffer.from(header, 'base64').toString('utf8'));
    parsed = principalSchema.parse(json);
  } catch {
    throw errors.unauthenticated('the client principal header cannot be read');
  }
  const claim = (types: readonly string[]) => {
    for (const typ of types) {
      const found = parsed.claims.find((c) => c.typ === typ && c.val.trim() !== '');
      if (found) return found.val.trim();
    }
    return undefined;
  };
  const id = claim([...(parsed.name_typ ? [parsed.name_typ] : []), ...ID_CLAIMS]);
  if (!id) throw errors.unauthenticated('the client principal names no user');
  const roleTypes = new Set([...(parsed.role_typ ? [parsed.role_typ] : []), ...ROLE_CLAIMS]);
  const roles = [...new Set(parsed.claims.filter((c) => roleTypes.has(c.typ)).map((c) => c.val))];
  return { id: id.slice(0, 256), kind: 'user', roles };
}
