import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

import { z } from 'zod';

/**
 * devhost's stand-in for App Service Authentication (EasyAuth): the app reads the caller only
 * from `x-ms-client-principal`, which the platform sets. As the platform does, devhost removes
 * every `x-ms-client-principal*` header a client sends (it cannot be forged), and for
 * `Authorization: Bearer <token>` injects the principal local settings map to that token
 * (`DEVHOST_IDENTITIES`, JSON: `{ "<token>": { "name": "...", "roles": ["MLOps.Reader"] } }`).
 * An unknown token injects nothing, so the app sees an anonymous caller.
 */
export const devIdentitiesSchema = z.record(
  z.string().min(1),
  z.object({ name: z.string().min(1).max(256), roles: z.array(z.string().min(1)).default([]) }),
);
export type DevIdentities = z.infer<typeof devIdentitiesSchema>;

/** Parses DEVHOST_IDENTITIES; a malformed value stops devhost with the reason (no silent open door). */
export function parseDevIdentities(value: string | undefined): DevIdentities {
  if (value === undefined || value.trim() === '') return {};
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch (e) {
    throw new Error(`DEVHOST_IDENTITIES is not JSON: ${(e as Error).message}`);
  }
  const parsed = devIdentitiesSchema.safeParse(json);
  if (!parsed.success) throw new Error(`DEVHOST_IDENTITIES is invalid:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

const PRINCIPAL_PREFIX = 'x-ms-client-principal';

/** The principal App Service Authentication would send for this identity (its JSON shape). */
export function principalHeaders(identity: DevIdentities[string]): Record<string, string> {
  const principal = {
    auth_typ: 'devhost',
    name_typ: 'name',
    role_typ: 'roles',
    claims: [{ typ: 'name', val: identity.name }, ...identity.roles.map((role) => ({ typ: 'roles', val: role }))],
  };
  return {
    [PRINCIPAL_PREFIX]: Buffer.from(JSON.stringify(principal)).toString('base64'),
    [`${PRINCIPAL_PREFIX}-name`]: identity.name,
    [`${PRINCIPAL_PREFIX}-id`]: createHash('sha256').update(identity.name).digest('hex').slice(0, 32),
    [`${PRINCIPAL_PREFIX}-idp`]: 'devhost',
  };
}

/** The headers the app gets: client-sent principal headers removed, the bearer token's principal added. */
export function authenticatedHeaders(headers: IncomingHttpHeaders, identities: DevIdentities): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || k.toLowerCase().startsWith(PRINCIPAL_PREFIX)) continue;
    out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(out.authorization ?? '');
  const identity = bearer?.[1] !== undefined && Object.hasOwn(identities, bearer[1]) ? identities[bearer[1]] : undefined;
  return identity ? { ...out, ...principalHeaders(identity) } : out;
}
