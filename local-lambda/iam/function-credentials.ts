// Each function's credentials, as Lambda hands a function its role's temporary credentials: an
// access key that names the function (so a request says whose role it runs as), a secret and a
// session token derived from a secret made for this run of the service (a key from an earlier run
// or another machine is unknown here). LocalStack checks none of them: the checking endpoint does.
import { createHash, createHmac, randomBytes } from 'node:crypto';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

/** Base32 (RFC 4648 alphabet), as AWS access key ids are written. */
const base32 = (bytes: Buffer): string => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
};

export class FunctionCredentials {
  private readonly byKey = new Map<string, string>();

  constructor(private readonly runSecret: Buffer = randomBytes(32)) {}

  /** The function's credentials (the same for every environment of it during this run). */
  credentialsFor(functionName: string): Credentials {
    // ASIA: AWS's prefix for temporary credentials, which is what a Lambda role hands out.
    const accessKeyId = `ASIA${base32(createHash('sha256').update(functionName).digest()).slice(0, 16)}`;
    this.byKey.set(accessKeyId, functionName);
    return { accessKeyId, secretAccessKey: this.derive(`secret:${accessKeyId}`).slice(0, 40), sessionToken: this.derive(`token:${accessKeyId}`) };
  }

  /** The function whose key this is, if it is one of this run's. */
  functionOf(accessKeyId: string): string | undefined {
    return this.byKey.get(accessKeyId);
  }

  secretFor(accessKeyId: string): string | undefined {
    return this.byKey.has(accessKeyId) ? this.derive(`secret:${accessKeyId}`).slice(0, 40) : undefined;
  }

  sessionTokenFor(accessKeyId: string): string | undefined {
    return this.byKey.has(accessKeyId) ? this.derive(`token:${accessKeyId}`) : undefined;
  }

  private derive(what: string): string {
    return createHmac('sha256', this.runSecret).update(what).digest('base64');
  }
}
