/** The Secrets Manager adapter, with the client's `send` stubbed (the only place it is). */
import { GetSecretValueCommand, PutSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import { secretsManagerStore, type SecretsManagerSender } from "./secret-store";

test("reads a secret's string, writes a new one, and refuses a secret without a string", async () => {
  const sent: unknown[] = [];
  let value: string | undefined = "token-1";
  const client: SecretsManagerSender = {
    async send(command) {
      sent.push(command);
      return command instanceof GetSecretValueCommand
        ? { ...(value !== undefined && { SecretString: value }) }
        : {};
    },
  };
  const store = secretsManagerStore(client);
  await expect(store.read("arn:secret")).resolves.toBe("token-1");
  await store.write("arn:secret", "token-2");
  expect(sent[0]).toBeInstanceOf(GetSecretValueCommand);
  expect((sent[0] as GetSecretValueCommand).input).toEqual({ SecretId: "arn:secret" });
  expect(sent[1]).toBeInstanceOf(PutSecretValueCommand);
  expect((sent[1] as PutSecretValueCommand).input).toEqual({
    SecretId: "arn:secret",
    SecretString: "token-2",
  });
  value = undefined;
  await expect(store.read("arn:secret")).rejects.toThrow(/no string value/);
});
