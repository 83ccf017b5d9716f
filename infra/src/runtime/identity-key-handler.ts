/**
 * Custom-resource handler that gives the runtime its Ed25519 request-identity key. The private key
 * is generated here and written straight into Secrets Manager, so it never appears in a template,
 * an event or a log; only the public key comes back, as the `PublicKey` attribute that each
 * DurableFunction receives in CAPSTAN_IDENTITY_PUBLIC_KEYS.
 *
 * Idempotent: a secret that already holds an Ed25519 key keeps it (a retried Create, or an Update),
 * so a redeploy never rotates the key under running functions.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { secretsManagerStore, type SecretStore } from "./secret-store";

export interface IdentityKeyEvent {
  RequestType: "Create" | "Update" | "Delete";
  PhysicalResourceId?: string;
  ResourceProperties: { SecretArn?: unknown };
}

export interface IdentityKeyResponse {
  PhysicalResourceId: string;
  Data?: { PublicKey: string };
}

/**
 * The public key as CAPSTAN_IDENTITY_PUBLIC_KEYS lists it and `capstan identity-key` prints it:
 * `capstanpk1_` + base64url of the 32-byte key (the SDK's IDENTITY_PUBLIC_KEY_PREFIX format; infra
 * bundles no SDK code, so the two lines are repeated here and tested against the SDK's parser).
 */
export const IDENTITY_PUBLIC_KEY_PREFIX = "capstanpk1_";
export function encodePublicKey(key: KeyObject): string {
  const x = (key.export({ format: "jwk" }) as { x?: string }).x;
  if (key.asymmetricKeyType !== "ed25519" || x === undefined) throw new TypeError("not an Ed25519 key");
  return IDENTITY_PUBLIC_KEY_PREFIX + x;
}

function existingKey(value: string): KeyObject | undefined {
  try {
    const key = createPrivateKey(value);
    return key.asymmetricKeyType === "ed25519" ? key : undefined;
  } catch {
    return undefined; // Secrets Manager's initial random string: not a key yet.
  }
}

/**
 * @example
 * await handleIdentityKeyEvent({ RequestType: "Create", ResourceProperties: { SecretArn: arn } }, store);
 * // → { PhysicalResourceId: arn, Data: { PublicKey: "capstanpk1_Gb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE" } }
 */
export async function handleIdentityKeyEvent(
  event: IdentityKeyEvent,
  store: SecretStore,
): Promise<IdentityKeyResponse> {
  const secretArn = event.ResourceProperties.SecretArn;
  if (typeof secretArn !== "string" || secretArn === "") throw new Error("SecretArn is required");
  if (event.RequestType === "Delete") {
    // The secret has its own removal policy; deleting the resource deletes nothing here.
    return { PhysicalResourceId: event.PhysicalResourceId ?? secretArn };
  }
  let privateKey = existingKey(await store.read(secretArn));
  if (privateKey === undefined) {
    privateKey = generateKeyPairSync("ed25519").privateKey;
    await store.write(secretArn, privateKey.export({ format: "pem", type: "pkcs8" }).toString());
  }
  return { PhysicalResourceId: secretArn, Data: { PublicKey: encodePublicKey(createPublicKey(privateKey)) } };
}

/** The Lambda entry point (the provider framework's onEvent). */
export const handler = (event: IdentityKeyEvent): Promise<IdentityKeyResponse> =>
  handleIdentityKeyEvent(event, secretsManagerStore());
