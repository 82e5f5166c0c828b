import { X509Certificate } from 'node:crypto';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Days before expiry at which the health check warns and the certificate alarm fires. */
export const CERTIFICATE_WARNING_DAYS = 30;

export interface CertificateExpiry {
  readonly notAfter: Date;
  /** Whole days left, rounded down: 0 on the last day, negative once the certificate has expired. */
  readonly daysToExpiry: number;
}

/**
 * Reads the expiry of the first certificate in a PEM. A new MESH certificate takes days to obtain (CSR, then the
 * MESH team), so the figure is published daily and alarmed on well before it reaches zero.
 */
export function certificateExpiry(pem: string, now: Date): CertificateExpiry {
  const notAfter = new Date(new X509Certificate(pem).validTo);
  return { notAfter, daysToExpiry: Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS) };
}
