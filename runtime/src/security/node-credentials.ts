/**
 * A node's three secrets, each from its configuration variable or, when unset, generated on first
 * start and kept owner-only in the data directory (key-files.ts):
 * - the attempt MAC key (CAPSTAN_ATTEMPT_KEY, `attempt-key`): signs attempt credentials;
 * - the admin bearer token (CAPSTAN_ADMIN_TOKEN, `admin-token`): required by the admin API;
 * - the identity key (CAPSTAN_IDENTITY_PRIVATE_KEY, `identity-key.pem`): signs requests to handlers.
 * A node of a cluster has a fourth, the cluster key (`loadClusterKey`).
 */
import { randomBytes } from "node:crypto";
import { AttemptCredentials, MIN_ATTEMPT_KEY_BYTES } from "./attempt-credentials";
import { readOrCreateSecret } from "./key-files";
import { MIN_CLUSTER_KEY_BYTES } from "./peer-auth";
import { RequestSigner } from "./request-signer";

export const ATTEMPT_KEY_FILE = "attempt-key";
export const ADMIN_TOKEN_FILE = "admin-token";
export const IDENTITY_KEY_FILE = "identity-key.pem";
export const CLUSTER_KEY_FILE = "cluster-key";
/** Random bytes in a generated admin token (base64url: 43 characters). */
export const ADMIN_TOKEN_BYTES = 32;

/** Secrets given by configuration; each one absent is read from (or generated into) the data dir. */
export interface ConfiguredSecrets {
  attemptKey?: Buffer;
  adminToken?: string;
  identityPrivateKeyPem?: string;
  /** Cluster mode: authenticates node-to-node requests (every node of a cluster has the same). */
  clusterKey?: Buffer;
}

export interface NodeCredentials {
  attemptCredentials: AttemptCredentials;
  adminToken: string;
  identity: RequestSigner;
}

/**
 * @example
 * const credentials = loadNodeCredentials(".capstan", { adminToken: process.env.CAPSTAN_ADMIN_TOKEN });
 * credentials.identity.publicKey; // "capstanpk1_…", for the deployments' CAPSTAN_IDENTITY_PUBLIC_KEYS
 */
export function loadNodeCredentials(dataDir: string, configured: ConfiguredSecrets = {}): NodeCredentials {
  const attemptKey =
    configured.attemptKey ??
    Buffer.from(
      readOrCreateSecret(dataDir, ATTEMPT_KEY_FILE, () =>
        randomBytes(MIN_ATTEMPT_KEY_BYTES).toString("base64"),
      ),
      "base64",
    );
  const adminToken =
    configured.adminToken ??
    readOrCreateSecret(dataDir, ADMIN_TOKEN_FILE, () => randomBytes(ADMIN_TOKEN_BYTES).toString("base64url"));
  const pem =
    configured.identityPrivateKeyPem ??
    readOrCreateSecret(dataDir, IDENTITY_KEY_FILE, () => RequestSigner.generatePem());
  return {
    attemptCredentials: new AttemptCredentials(attemptKey),
    adminToken,
    identity: RequestSigner.fromPem(pem),
  };
}

/**
 * The cluster key (CAPSTAN_CLUSTER_KEY, or `cluster-key` in the data directory, generated owner-only
 * on first start): read only by a node of a cluster. Every node of a cluster needs the same one, so
 * a cluster on several machines configures it (on AWS from Secrets Manager).
 */
export function loadClusterKey(dataDir: string, configured: ConfiguredSecrets = {}): Buffer {
  return (
    configured.clusterKey ??
    Buffer.from(
      readOrCreateSecret(dataDir, CLUSTER_KEY_FILE, () =>
        randomBytes(MIN_CLUSTER_KEY_BYTES).toString("base64"),
      ),
      "base64",
    )
  );
}
