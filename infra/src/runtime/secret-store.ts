/**
 * The one adapter over Secrets Manager that the custom-resource handlers use: read a secret's
 * string, or replace it. Everything else in the handlers takes these as plain functions, so their
 * tests need no AWS client.
 */
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";

export interface SecretStore {
  read(secretId: string): Promise<string>;
  write(secretId: string, value: string): Promise<void>;
}

/** Structural subset of SecretsManagerClient, so tests can pass a stub with just `send`. */
export interface SecretsManagerSender {
  send(command: GetSecretValueCommand | PutSecretValueCommand): Promise<{ SecretString?: string }>;
}

/**
 * @example
 * const token = await secretsManagerStore().read(process.env.ADMIN_TOKEN_SECRET_ARN!);
 */
export function secretsManagerStore(
  client: SecretsManagerSender = new SecretsManagerClient({}),
): SecretStore {
  return {
    async read(secretId) {
      const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
      if (typeof out.SecretString !== "string" || out.SecretString === "") {
        throw new Error(`secret ${secretId} has no string value`);
      }
      return out.SecretString;
    },
    async write(secretId, value) {
      await client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: value }));
    },
  };
}
