import { authenticatedHeaders, parseDevIdentities, principalHeaders } from '../../../devhost/host/identities';
import { actorFromPrincipal, hasRole, ROLES } from '../../../functions/http/identity';

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64');

describe('identity from the platform principal', () => {
  it('when App Service Authentication sends an Entra ID principal, then the actor is its name claim with its role claims', () => {
    const header = encode({
      auth_typ: 'aad',
      name_typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name',
      role_typ: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role',
      claims: [
        { typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier', val: '5f1c' },
        { typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name', val: 'ana@contoso.example' },
        { typ: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role', val: 'MLOps.Approver' },
        { typ: 'roles', val: 'MLOps.Reader' },
      ],
    });
    expect(actorFromPrincipal(header)).toEqual({ id: 'ana@contoso.example', kind: 'user', roles: ['MLOps.Approver', 'MLOps.Reader'] });
  });

  it('when the principal has no name claim, then the object id names the user', () => {
    const header = encode({ claims: [{ typ: 'oid', val: 'b0b' }, { typ: 'roles', val: 'MLOps.Admin' }] });
    expect(actorFromPrincipal(header)).toEqual({ id: 'b0b', kind: 'user', roles: ['MLOps.Admin'] });
  });

  it('when there is no header, then there is no actor; a header that is not a principal is UNAUTHENTICATED', () => {
    expect(actorFromPrincipal(null)).toBeUndefined();
    expect(() => actorFromPrincipal('not base64 json')).toThrow(expect.objectContaining({ code: 'UNAUTHENTICATED' }));
    expect(() => actorFromPrincipal(encode({ claims: [{ typ: 'roles', val: 'MLOps.Admin' }] }))).toThrow(/names no user/);
  });

  it('when roles are checked, then writers also read but no writer stands in for another', () => {
    const admin = { id: 'a', kind: 'user' as const, roles: [ROLES.admin] };
    const contributor = { id: 'c', kind: 'user' as const, roles: [ROLES.contributor] };
    expect(hasRole(admin, ROLES.reader)).toBe(true);
    expect(hasRole(contributor, ROLES.reader)).toBe(true);
    expect(hasRole(admin, ROLES.approver)).toBe(false);
    expect(hasRole(admin, ROLES.contributor)).toBe(false);
    expect(hasRole(contributor, ROLES.admin)).toBe(false);
    expect(hasRole({ id: 'r', kind: 'user', roles: [ROLES.reader] }, ROLES.contributor)).toBe(false);
  });
});

describe('devhost as the authentication layer', () => {
  const identities = parseDevIdentities(JSON.stringify({ 'dev-approver': { name: 'ana@contoso.example', roles: ['MLOps.Approver'] } }));

  it('when a client sends principal headers, then devhost removes them; a known bearer token gets its principal', () => {
    const forged = { 'x-ms-client-principal': encode({ claims: [{ typ: 'name', val: 'eve' }] }), 'X-MS-CLIENT-PRINCIPAL-NAME': 'eve', accept: 'application/json' };
    expect(authenticatedHeaders(forged, identities)).toEqual({ accept: 'application/json' });
    const signedIn = authenticatedHeaders({ ...forged, authorization: 'Bearer dev-approver' }, identities);
    expect(actorFromPrincipal(signedIn['x-ms-client-principal']!)).toEqual({ id: 'ana@contoso.example', kind: 'user', roles: ['MLOps.Approver'] });
    expect(signedIn['x-ms-client-principal-name']).toBe('ana@contoso.example');
    expect(authenticatedHeaders({ authorization: 'Bearer unknown' }, identities)['x-ms-client-principal']).toBeUndefined();
    expect(authenticatedHeaders({ authorization: 'Bearer toString' }, identities)['x-ms-client-principal']).toBeUndefined();
  });

  it('when DEVHOST_IDENTITIES is malformed, then devhost refuses to start with the reason', () => {
    expect(parseDevIdentities(undefined)).toEqual({});
    expect(() => parseDevIdentities('{nope')).toThrow(/DEVHOST_IDENTITIES is not JSON/);
    expect(() => parseDevIdentities('{"t":{"roles":["x"]}}')).toThrow(/DEVHOST_IDENTITIES is invalid[\s\S]*name/);
  });

  it('when a principal is built, then the app reads back the same user and roles', () => {
    const headers = principalHeaders({ name: 'rita@contoso.example', roles: ['MLOps.Reader', 'MLOps.Contributor'] });
    expect(actorFromPrincipal(headers['x-ms-client-principal']!)).toMatchObject({ id: 'rita@contoso.example', roles: ['MLOps.Reader', 'MLOps.Contributor'] });
  });
});
