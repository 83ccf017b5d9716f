/**
 * The runtime's side of request identity (sdk/src/protocol/identity.ts): signs each message it sends
 * to a deployment with the node's Ed25519 key, so SDKs configured with its public key accept it.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import {
  IDENTITY_FIELD,
  formatIdentityPublicKey,
  identityAudience,
  identityClaims,
  messageDigest,
  signIdentity,
  type RuntimeToSdk,
} from "@capstan/sdk/protocol";

/**
 * @example
 * const signer = RequestSigner.fromPem(readFileSync(".capstan/identity-key.pem", "utf8"));
 * signer.publicKey;                              // "capstanpk1_…": what deployments are configured with
 * const body = signer.sign(request, JSON.stringify(request)); // {"identity":"<jwt>", ...request}
 */
export class RequestSigner {
  /** The printed public key (`capstanpk1_…`), also the JWT's `kid`. */
  readonly publicKey: string;

  constructor(
    private readonly privateKey: KeyObject,
    private readonly nowMs: () => number = Date.now,
  ) {
    if (privateKey.asymmetricKeyType !== "ed25519")
      throw new TypeError(`the identity key must be Ed25519, not ${privateKey.asymmetricKeyType ?? "?"}`);
    this.publicKey = formatIdentityPublicKey(createPublicKey(privateKey));
  }

  /** From a PKCS#8 PEM private key; throws TypeError for anything but an Ed25519 private key. */
  static fromPem(pem: string, nowMs?: () => number): RequestSigner {
    let key: KeyObject;
    try {
      key = createPrivateKey(pem);
    } catch (e) {
      // Never echo the text: it is a private key (or meant to be one).
      throw new TypeError("the identity key is not a PEM private key", { cause: e });
    }
    return new RequestSigner(key, nowMs);
  }

  /** A new private key, as PKCS#8 PEM. */
  static generatePem(): string {
    return generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }).toString();
  }

  /**
   * `json` (JSON.stringify(message), a JSON object) with the signature as its first field. The text
   * is not re-serialized: the digest covers exactly the bytes sent after the `identity` field.
   */
  sign(message: RuntimeToSdk, json: string): string {
    const claims = identityClaims(identityAudience(message), messageDigest(json), this.nowMs());
    const jwt = signIdentity(this.privateKey, this.publicKey, claims);
    return `{${JSON.stringify(IDENTITY_FIELD)}:${JSON.stringify(jwt)}${json === "{}" ? "" : ","}${json.slice(1)}`;
  }
}
