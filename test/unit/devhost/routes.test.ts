import { compileRoute } from '../../../devhost/host/routes';

describe('route templates', () => {
  const versions = compileRoute('models/{model}/versions/{version:int?}');

  it('when an optional int parameter is present or absent, then both paths match', () => {
    expect(versions.match('/models/churn/versions/3')).toEqual({ model: 'churn', version: '3' });
    expect(versions.match('/models/churn/versions')).toEqual({ model: 'churn' });
    expect(versions.match('/MODELS/churn/Versions/')).toEqual({ model: 'churn' });
  });

  it('when a constraint fails or segments are missing or extra, then the path does not match', () => {
    expect(versions.match('/models/churn/versions/latest')).toBeUndefined();
    expect(versions.match('/models/churn')).toBeUndefined();
    expect(versions.match('/models/churn/versions/3/extra')).toBeUndefined();
  });

  it('when a segment is percent-encoded, then the parameter is decoded', () => {
    expect(compileRoute('files/{name}').match('/files/a%20b')).toEqual({ name: 'a b' });
  });

  it('when a catch-all is used, then it takes the rest of the path', () => {
    expect(compileRoute('blobs/{*path}').match('/blobs/a/b/c.csv')).toEqual({ path: 'a/b/c.csv' });
  });

  it('when other constraints are used, then each is applied', () => {
    expect(compileRoute('x/{id:guid}').match('/x/2f1e3b8a-5c4d-4e6f-8a9b-0c1d2e3f4a5b')).toBeDefined();
    expect(compileRoute('x/{id:guid}').match('/x/nope')).toBeUndefined();
    expect(compileRoute('x/{n:range(1,5)}').match('/x/6')).toBeUndefined();
    expect(compileRoute('x/{n:alpha:maxlength(3)}').match('/x/abc')).toEqual({ n: 'abc' });
    expect(compileRoute('x/{n:alpha:maxlength(3)}').match('/x/abcd')).toBeUndefined();
  });

  it('when a template uses an unknown constraint, then compiling fails clearly', () => {
    expect(() => compileRoute('x/{n:color}')).toThrow('Unsupported route constraint "color".');
  });
});
