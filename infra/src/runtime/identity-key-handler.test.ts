/**
 * The identity-key custom resource: generates an Ed25519 key into the secret, returns only the
 * public half, and never replaces a key that exists (a redeploy must not rotate it under running
 * functions). The store is an in-memory fake; Secrets Manager's adapter has its own test.
 */
import { sign, verify } from "node:crypto";
import { parseIdentityPublicKey } from "@capstan/sdk/protocol";
import { handleIdentityKeyEvent } from "./identity-key-handler";
import type { SecretStore } from "./secret-store";

function memoryStore(initial: string): SecretStore & { value: string; writes: number } {
  const store = {
    value: initial,
    writes: 0,
    async read() {
      return store.value;
    },
    async write(_id: string, value: string) {
      store.value = value;
      store.writes += 1;
    },
  };
  return store;
}

const SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:capstan-identity-AbCdEf";

test("Create writes a PKCS#8 Ed25519 private key to the secret and answers its public key", async () => {
  const store = memoryStore("random-initial-value-from-secrets-manager");
  const out = await handleIdentityKeyEvent(
    { RequestType: "Create", ResourceProperties: { SecretArn: SECRET } },
    store,
  );
  expect(out.PhysicalResourceId).toBe(SECRET);
  expect(store.value).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  expect(JSON.stringify(out)).not.toContain("PRIVATE");
  // The SDK accepts the public key as CAPSTAN_IDENTITY_PUBLIC_KEYS, and it verifies what the stored
  // private key signs.
  const publicKey = parseIdentityPublicKey(out.Data!.PublicKey).key;
  const message = Buffer.from("capstan request identity");
  expect(verify(null, message, publicKey, sign(null, message, store.value))).toBe(true);
});

test("Update and retried Creates keep the existing key; Delete leaves the secret alone", async () => {
  const store = memoryStore("random-initial-value-from-secrets-manager");
  const first = await handleIdentityKeyEvent(
    { RequestType: "Create", ResourceProperties: { SecretArn: SECRET } },
    store,
  );
  const again = await handleIdentityKeyEvent(
    { RequestType: "Create", ResourceProperties: { SecretArn: SECRET } },
    store,
  );
  const update = await handleIdentityKeyEvent(
    { RequestType: "Update", PhysicalResourceId: SECRET, ResourceProperties: { SecretArn: SECRET } },
    store,
  );
  expect(again.Data).toEqual(first.Data);
  expect(update.Data).toEqual(first.Data);
  expect(store.writes).toBe(1);
  await handleIdentityKeyEvent(
    { RequestType: "Delete", PhysicalResourceId: SECRET, ResourceProperties: { SecretArn: SECRET } },
    store,
  );
  expect(store.writes).toBe(1);
  await expect(
    handleIdentityKeyEvent({ RequestType: "Create", ResourceProperties: {} }, store),
  ).rejects.toThrow(/SecretArn/);
});
