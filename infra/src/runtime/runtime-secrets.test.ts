/**
 * The secrets CapstanRuntime generates have the shapes `capstan serve` accepts: Secrets Manager's
 * generated strings ([A-Za-z0-9] of the configured lengths) for the admin token and the attempt key,
 * and the identity custom resource's PKCS#8 PEM for the identity key.
 */
import { randomInt } from "node:crypto";
import { loadConfig } from "@capstan/runtime";
import { handleIdentityKeyEvent } from "./identity-key-handler";
import { ADMIN_TOKEN_LENGTH, ATTEMPT_KEY_LENGTH } from "./runtime-secrets";

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/** What `generateSecretString({ passwordLength, excludePunctuation: true })` produces. */
const generated = (length: number): string =>
  Array.from({ length }, () => ALPHANUMERIC[randomInt(ALPHANUMERIC.length)]).join("");

test("generated secrets pass the runtime's own validation of CAPSTAN_* credentials", async () => {
  let pem = "initial";
  await handleIdentityKeyEvent(
    { RequestType: "Create", ResourceProperties: { SecretArn: "arn:secret" } },
    {
      read: async () => pem,
      write: async (_id, value) => void (pem = value),
    },
  );
  const env = {
    CAPSTAN_ADMIN_TOKEN: generated(ADMIN_TOKEN_LENGTH),
    CAPSTAN_ATTEMPT_KEY: generated(ATTEMPT_KEY_LENGTH),
    CAPSTAN_IDENTITY_PRIVATE_KEY: pem,
  };
  const config = loadConfig({}, env, "/tmp");
  expect(config.secrets.adminToken).toBe(env.CAPSTAN_ADMIN_TOKEN);
  expect(config.secrets.attemptKey?.length).toBe((ATTEMPT_KEY_LENGTH * 6) / 8);
  expect(config.secrets.identityPrivateKeyPem).toBe(pem);
});
