/**
 * The runtime's credentials, each in Secrets Manager and handed to the container as an ECS secret
 * (never as plaintext in the template): the admin API's bearer token, the key that MACs each
 * attempt's checkpoint credential, the Ed25519 key that signs requests to handlers, and the cluster
 * key that authenticates node-to-node requests. Every task reads the same four: a checkpoint or an
 * admin request may land on any node, and peers must recognise each other.
 */
import { CustomResource, RemovalPolicy, Validations } from "aws-cdk-lib";
import * as cr from "aws-cdk-lib/custom-resources";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";
import { handlerEntry, handlerFunction } from "../handler-function";
import { acknowledgeProviderFramework } from "../nag/provider-acknowledgements";

/** Lengths of the generated secrets, in characters of [A-Za-z0-9] (about 5.95 bits each). */
export const ADMIN_TOKEN_LENGTH = 48;
export const ATTEMPT_KEY_LENGTH = 64;
export const CLUSTER_KEY_LENGTH = 64;

const ROTATION_REASON =
  "Rotating this secret needs every runtime node and handler to switch together (docs/deploy-aws.md, " +
  "Rotating credentials); automatic single-user rotation would break in-flight attempts.";

/**
 * @example
 * const secrets = new RuntimeSecrets(this, "Secrets", { removalPolicy: RemovalPolicy.DESTROY });
 * secrets.identityPublicKey; // token: capstanpk1_… of the request-identity key
 */
export class RuntimeSecrets extends Construct {
  readonly adminToken: secretsmanager.Secret;
  readonly attemptKey: secretsmanager.Secret;
  readonly identityKey: secretsmanager.Secret;
  readonly clusterKey: secretsmanager.Secret;
  /** Fills `identityKey`; anything reading the key must depend on it. */
  readonly identityKeyResource: CustomResource;
  /** The request-identity public key (`capstanpk1_…`), for CAPSTAN_IDENTITY_PUBLIC_KEYS. */
  readonly identityPublicKey: string;

  constructor(scope: Construct, id: string, props: { removalPolicy: RemovalPolicy }) {
    super(scope, id);
    const generated = (length: number): secretsmanager.SecretStringGenerator => ({
      passwordLength: length,
      excludePunctuation: true,
      includeSpace: false,
    });
    this.adminToken = new secretsmanager.Secret(this, "AdminToken", {
      description: "Capstan admin API bearer token (CAPSTAN_ADMIN_TOKEN)",
      generateSecretString: generated(ADMIN_TOKEN_LENGTH),
      removalPolicy: props.removalPolicy,
    });
    this.attemptKey = new secretsmanager.Secret(this, "AttemptKey", {
      description: "Capstan attempt-credential MAC key (CAPSTAN_ATTEMPT_KEY)",
      generateSecretString: generated(ATTEMPT_KEY_LENGTH),
      removalPolicy: props.removalPolicy,
    });
    this.identityKey = new secretsmanager.Secret(this, "IdentityKey", {
      description: "Capstan request-identity Ed25519 private key, PKCS#8 PEM (CAPSTAN_IDENTITY_PRIVATE_KEY)",
      removalPolicy: props.removalPolicy,
    });
    this.clusterKey = new secretsmanager.Secret(this, "ClusterKey", {
      description: "Capstan node-to-node authentication key, shared by every task (CAPSTAN_CLUSTER_KEY)",
      generateSecretString: generated(CLUSTER_KEY_LENGTH),
      removalPolicy: props.removalPolicy,
    });
    for (const secret of [this.adminToken, this.attemptKey, this.identityKey, this.clusterKey]) {
      Validations.of(secret).acknowledge({ id: "AwsSolutions-SMG4", reason: ROTATION_REASON });
    }

    const onEvent = handlerFunction(this, "IdentityKeyHandler", {
      entry: handlerEntry(__dirname, "identity-key-handler"),
      description: "Capstan: generates the request-identity key into its secret",
    });
    this.identityKey.grantRead(onEvent);
    this.identityKey.grantWrite(onEvent);
    const provider = new cr.Provider(this, "IdentityKeyProvider", { onEventHandler: onEvent });
    acknowledgeProviderFramework(this, provider, onEvent);
    this.identityKeyResource = new CustomResource(this, "IdentityKeyValue", {
      serviceToken: provider.serviceToken,
      resourceType: "Custom::CapstanIdentityKey",
      properties: { SecretArn: this.identityKey.secretArn },
    });
    this.identityPublicKey = this.identityKeyResource.getAttString("PublicKey");
  }
}
