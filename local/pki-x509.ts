/**
 * X.509 certificates for the test PKI, encoded in DER by hand and signed with node:crypto, synchronously. A
 * general-purpose X.509 library spends several milliseconds per certificate in ASN.1 objects and asynchronous
 * WebCrypto calls; this encoder spends a fraction of one, so a PKI for a thousand mailboxes, each with its own key,
 * takes well under a second. It writes only what the test PKI needs: a CN-only subject, validity, one key, and the
 * extensions below (RFC 5280).
 */
import {
  createHash,
  generateKeyPairSync,
  randomBytes,
  sign,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';

// ---- DER encoding -------------------------------------------------------------------------------------------------

function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

const tlv = (tag: number, ...content: Buffer[]): Buffer => {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
};
const sequence = (...content: Buffer[]) => tlv(0x30, ...content);
const set = (...content: Buffer[]) => tlv(0x31, ...content);
const octetString = (content: Buffer) => tlv(0x04, content);
const bitString = (content: Buffer, unusedBits = 0) => tlv(0x03, Buffer.from([unusedBits]), content);
const explicit = (n: number, content: Buffer) => tlv(0xa0 + n, content);
const TRUE = Buffer.from([0x01, 0x01, 0xff]);

/** A non-negative INTEGER from big-endian bytes. */
function integer(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0 && bytes[start + 1]! < 0x80) start++;
  const trimmed = bytes.subarray(start);
  return tlv(0x02, trimmed[0]! >= 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const bytes = [40 * arcs[0]! + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const base128 = [arc & 0x7f];
    for (let n = Math.floor(arc / 128); n > 0; n = Math.floor(n / 128)) base128.unshift(0x80 | (n & 0x7f));
    bytes.push(...base128);
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** UTCTime through 2049, GeneralizedTime after, to the second (RFC 5280 §4.1.2.5). */
function time(date: Date): Buffer {
  const iso = date.toISOString();
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '');
  const year = date.getUTCFullYear();
  return year >= 1950 && year < 2050
    ? tlv(0x17, Buffer.from(`${digits.slice(2)}Z`, 'ascii'))
    : tlv(0x18, Buffer.from(`${digits}Z`, 'ascii'));
}

const commonNameOnly = (cn: string) =>
  sequence(set(sequence(oid('2.5.4.3'), tlv(0x0c, Buffer.from(cn, 'utf8')))));

function ipBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  const [head = '', tail] = ip.split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return Buffer.from(all.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]));
}

// ---- DER reading (just enough to take names and key ids from a CA certificate) ------------------------------------

interface Element {
  tag: number;
  /** The whole TLV. */
  der: Buffer;
  content: Buffer;
}

function readElement(buf: Buffer, offset = 0): Element {
  const tag = buf[offset]!;
  let length = buf[offset + 1]!;
  let header = 2;
  if (length >= 0x80) {
    const count = length & 0x7f;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[offset + 2 + i]!;
    header += count;
  }
  const end = offset + header + length;
  if (end > buf.length) throw new Error('truncated DER');
  return { tag, der: buf.subarray(offset, end), content: buf.subarray(offset + header, end) };
}

function children(parent: Buffer): Element[] {
  const out: Element[] = [];
  for (let offset = 0; offset < parent.length;) {
    const element = readElement(parent, offset);
    out.push(element);
    offset += element.der.length;
  }
  return out;
}

/** SHA-1 of the subjectPublicKey bits: the key identifier of RFC 5280 §4.2.1.2, method 1. */
function keyIdentifier(spkiDer: Buffer): Buffer {
  const [, bits] = children(readElement(spkiDer).content);
  if (!bits || bits.tag !== 0x03) throw new Error('not a SubjectPublicKeyInfo');
  return createHash('sha1').update(bits.content.subarray(1)).digest();
}

const OID_SUBJECT_KEY_IDENTIFIER = oid('2.5.29.14');

/** The issuer's subject Name (DER, as is) and key identifier, for issuing under an existing CA certificate. */
export interface Issuer {
  name: Buffer;
  keyId: Buffer;
  key: KeyObject;
}

export function issuerFrom(caCertPem: string, caKey: KeyObject): Issuer {
  const cert = new X509Certificate(caCertPem);
  const [tbs] = children(readElement(cert.raw).content);
  const fields = children(tbs!.content);
  // [0] version, serial, signature, issuer, validity, subject, spki, ... [3] extensions.
  const base = fields[0]!.tag === 0xa0 ? 1 : 0;
  const name = fields[base + 4]!.der;
  const spki = fields[base + 5]!.der;
  let keyId = keyIdentifier(spki);
  const extensions = fields.find((f) => f.tag === 0xa3);
  if (extensions) {
    for (const extension of children(readElement(extensions.content).content)) {
      const parts = children(extension.content);
      if (parts[0]!.der.equals(OID_SUBJECT_KEY_IDENTIFIER))
        keyId = readElement(parts.at(-1)!.content).content;
    }
  }
  return { name, keyId, key: caKey };
}

// ---- certificates -------------------------------------------------------------------------------------------------

export interface CertificateSpec {
  commonName: string;
  notBefore: Date;
  notAfter: Date;
  kind: 'ca' | 'server' | 'client';
  /** DNS names and IP addresses (subjectAltName), for a server. */
  hosts?: string[];
}

export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
}

const SIGNATURE_ALGORITHMS: Record<string, Buffer> = {
  ec: sequence(oid('1.2.840.10045.4.3.2')), // ecdsa-with-SHA256
  rsa: sequence(oid('1.2.840.113549.1.1.11'), Buffer.from([0x05, 0x00])), // sha256WithRSAEncryption
};

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? sequence(oid(id), TRUE, octetString(value)) : sequence(oid(id), octetString(value));
}

function extensionsFor(spec: CertificateSpec, keyId: Buffer, issuerKeyId: Buffer): Buffer[] {
  const subjectKeyId = extension('2.5.29.14', false, octetString(keyId));
  if (spec.kind === 'ca') {
    return [
      extension('2.5.29.19', true, sequence(TRUE, integer(Buffer.from([0])))), // CA, pathLen 0
      extension('2.5.29.15', true, bitString(Buffer.from([0x06]), 1)), // keyCertSign, cRLSign
      subjectKeyId,
    ];
  }
  const usage = spec.kind === 'server' ? '1.3.6.1.5.5.7.3.1' : '1.3.6.1.5.5.7.3.2';
  const list = [
    extension('2.5.29.19', true, sequence()), // not a CA
    extension('2.5.29.15', true, bitString(Buffer.from([0x80]), 7)), // digitalSignature
    extension('2.5.29.37', false, sequence(oid(usage))),
    subjectKeyId,
    extension('2.5.29.35', false, sequence(tlv(0x80, issuerKeyId))),
  ];
  if (spec.hosts?.length) {
    const names = spec.hosts.map((host) =>
      isIPv4(host) || isIPv6(host) ? tlv(0x87, ipBytes(host)) : tlv(0x82, Buffer.from(host, 'ascii')),
    );
    list.push(extension('2.5.29.17', false, sequence(...names)));
  }
  return list;
}

const EC_P256_ALGORITHM = sequence(oid('1.2.840.10045.2.1'), oid('1.2.840.10045.3.1.7'));

const pem = (label: string, der: Buffer) =>
  `-----BEGIN ${label}-----\n${(der.toString('base64').match(/.{1,64}/g) ?? []).join('\n')}\n-----END ${label}-----\n`;

/**
 * A new EC P-256 key pair: the key object, its SubjectPublicKeyInfo (DER) and its PKCS#8 PEM. OpenSSL 3's
 * encoders cost more than generating the key, so both encodings are built here from the key's JWK (RFC 5480,
 * RFC 5915, RFC 5208): a quarter of the time.
 */
function newEcKey(): { privateKey: KeyObject; spki: Buffer; pkcs8Pem: string } {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' });
  const field = (value: string | undefined) => Buffer.from(value ?? '', 'base64url');
  const point = Buffer.concat([Buffer.from([0x04]), field(jwk.x), field(jwk.y)]);
  const spki = sequence(EC_P256_ALGORITHM, bitString(point));
  const ecPrivateKey = sequence(
    integer(Buffer.from([1])),
    octetString(field(jwk.d)),
    explicit(1, bitString(point)),
  );
  const pkcs8 = sequence(integer(Buffer.from([0])), EC_P256_ALGORITHM, octetString(ecPrivateKey));
  return { privateKey, spki, pkcs8Pem: pem('PRIVATE KEY', pkcs8) };
}

/**
 * A new EC P-256 key and a certificate for it, signed by `issuer`, or self-signed when `issuer` is omitted (a CA).
 */
export function issueCertificate(spec: CertificateSpec, issuer?: Issuer): IssuedCertificate {
  const { privateKey, spki, pkcs8Pem } = newEcKey();
  const keyId = keyIdentifier(spki);
  const subject = commonNameOnly(spec.commonName);
  const signer = issuer ?? { name: subject, keyId, key: privateKey };
  const algorithm = SIGNATURE_ALGORITHMS[signer.key.asymmetricKeyType ?? ''];
  if (!algorithm) throw new Error(`cannot sign with a ${signer.key.asymmetricKeyType} key`);
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  const tbs = sequence(
    explicit(0, integer(Buffer.from([2]))), // v3
    integer(serial),
    algorithm,
    signer.name,
    sequence(time(spec.notBefore), time(spec.notAfter)),
    subject,
    spki,
    explicit(3, sequence(...extensionsFor(spec, keyId, signer.keyId))),
  );
  const signature = sign('sha256', tbs, signer.key);
  return { certPem: pem('CERTIFICATE', sequence(tbs, algorithm, bitString(signature))), keyPem: pkcs8Pem };
}
