/** The `Key=Value;...` pairs of a connection string, keys lower-cased (values may contain `=`). */
export function connectionStringParts(value: string): Record<string, string> {
  return Object.fromEntries(
    value.split(';').flatMap((part) => {
      const at = part.indexOf('=');
      return at > 0 ? [[part.slice(0, at).trim().toLowerCase(), part.slice(at + 1).trim()]] : [];
    }),
  );
}
