import { resolveInside } from '../../shared/domain/contained-path';

describe('paths inside a package folder', () => {
  it('when a relative path stays inside the folder, then it is resolved against it', () => {
    expect(resolveInside('/home/ann/pkg', 'model.onnx')).toBe('/home/ann/pkg/model.onnx');
    expect(resolveInside('/home/ann/pkg/', './artifacts//model.onnx')).toBe('/home/ann/pkg/artifacts/model.onnx');
    expect(resolveInside('packages/churn/3', 'a/../model.onnx')).toBe('packages/churn/3/model.onnx');
    expect(resolveInside('/', 'model.onnx')).toBe('/model.onnx');
    expect(resolveInside('', 'model v2.onnx')).toBe('model v2.onnx');
  });

  it('when a path is absolute, climbs out, or is not a plain relative path, then it is refused with the reason', () => {
    const refused: Array<[string, RegExp]> = [
      ['../../../etc/passwd', /leads out of the manifest's folder/],
      ['artifacts/../../model.onnx', /leads out/],
      ['/etc/passwd', /is absolute/],
      ['C:/models/model.onnx', /is absolute/],
      ['file:///etc/passwd', /is absolute/],
      ['..\\model.onnx', /backslash/],
      ['model\u0000.onnx', /control characters/],
      ['', /is empty/],
      ['a/..', /names the folder itself/],
    ];
    for (const [path, reason] of refused) {
      expect(() => resolveInside('packages/churn/3', path)).toThrow(expect.objectContaining({ code: 'VALIDATION_ERROR', message: expect.stringMatching(reason) }));
    }
  });
});
