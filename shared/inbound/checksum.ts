/**
 * Finds a SHA-256 digest in a `mex-Content-Checksum` value, when it carries one in a recognisable form:
 * `SHA256:<hex>`, `sha256=<hex>`, `SHA-256 <hex>`, or 64 bare hex digits. Anything else (MD5, CRCs, free text)
 * is passed through unverified.
 */
export function sha256FromChecksum(value: string | undefined): string | undefined {
  // Anything much longer than a labelled digest is not one; bounding it also keeps the regexes linear.
  if (!value || value.length > 128) return undefined;
  const trimmed = value.trim();
  const labelled = /^sha-?256\s*[:=\s]\s*([0-9a-f]{64})$/i.exec(trimmed);
  if (labelled) return labelled[1]!.toLowerCase();
  return /^[0-9a-f]{64}$/i.test(trimmed) ? trimmed.toLowerCase() : undefined;
}
