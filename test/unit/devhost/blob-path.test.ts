import { parseBlobPath } from '../../../devhost/host/blob-triggers';

describe('blob trigger paths', () => {
  it('when the path has a container and parameters, then the last parameter spans folders', () => {
    const p = parseBlobPath('drops/{model}/{name}');
    expect(p.container).toBe('drops');
    expect(p.prefix).toBe('');
    expect(p.match('churn/2026/05/part.csv')).toEqual({ model: 'churn', name: '2026/05/part.csv' });
    expect(p.match('churn')).toBeUndefined();
  });

  it('when the path has literals and an extension pattern, then they are matched and used as the listing prefix', () => {
    const p = parseBlobPath('models/incoming/{model}/{version}/manifest.json');
    expect(p.prefix).toBe('incoming/');
    expect(p.match('incoming/churn/3/manifest.json')).toEqual({ model: 'churn', version: '3' });
    expect(p.match('incoming/churn/3/model.onnx')).toBeUndefined();
    expect(parseBlobPath('drops/{name}.csv').match('a/b.csv')).toEqual({ name: 'a/b' });
  });

  it('when the container is a parameter, then parsing fails clearly', () => {
    expect(() => parseBlobPath('{container}/{name}')).toThrow('the container name cannot be a parameter');
  });
});
